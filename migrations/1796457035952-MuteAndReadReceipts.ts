import { MigrationInterface, QueryRunner } from "typeorm";

export class MuteAndReadReceipts1796457035952 implements MigrationInterface {
    name = 'MuteAndReadReceipts1796457035952'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "conversation_members" ADD "muted" boolean NOT NULL DEFAULT false`);
        await queryRunner.query(`ALTER TABLE "users" ADD "read_receipts" boolean NOT NULL DEFAULT true`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "read_receipts"`);
        await queryRunner.query(`ALTER TABLE "conversation_members" DROP COLUMN "muted"`);
    }

}
