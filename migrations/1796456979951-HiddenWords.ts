import { MigrationInterface, QueryRunner } from "typeorm";

export class HiddenWords1796456979951 implements MigrationInterface {
    name = 'HiddenWords1796456979951'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // Hidden words (SPEC §8): one row per entry, keyed by (account, folded form) so the
        // send's facts statement reads an account's list through the primary key. The
        // built-in offensive-terms option is on by default, existing accounts included
        // (docs/decisions.md).
        await queryRunner.query(`CREATE TABLE "hidden_words" ("user_id" uuid NOT NULL, "normalised" text NOT NULL, "phrase" character varying(100) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_4555e609be0e616e0b71942bbc0" PRIMARY KEY ("user_id", "normalised"))`);
        await queryRunner.query(`ALTER TABLE "users" ADD "hide_offensive_requests" boolean NOT NULL DEFAULT true`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "hide_offensive_requests"`);
        await queryRunner.query(`DROP TABLE "hidden_words"`);
    }

}
