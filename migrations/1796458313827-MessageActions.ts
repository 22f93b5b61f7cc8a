import { MigrationInterface, QueryRunner } from "typeorm";

export class MessageActions1796458313827 implements MigrationInterface {
    name = 'MessageActions1796458313827'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // Issue 17: unsend (a tombstone; the text sealed for moderators), edits (previous
        // texts sealed too), reactions (one per participant per message: the primary key),
        // replies (checked by the send statement; messages are never deleted).
        await queryRunner.query(`CREATE TABLE "message_sealed_texts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "message_id" uuid NOT NULL, "kind" character varying(8) NOT NULL, "text" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_ef1e9d59488525f6f00a9b92899" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "message_sealed_texts_created_idx" ON "message_sealed_texts"  ("created_at") `);
        await queryRunner.query(`CREATE INDEX "message_sealed_texts_message_idx" ON "message_sealed_texts"  ("message_id", "created_at") `);
        await queryRunner.query(`CREATE TABLE "message_reactions" ("message_id" uuid NOT NULL, "user_id" uuid NOT NULL, "emoji" character varying(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_7aa2ff89b0f736fa785294739bb" PRIMARY KEY ("message_id", "user_id"))`);
        await queryRunner.query(`ALTER TABLE "messages" ADD "reply_to_id" uuid`);
        await queryRunner.query(`ALTER TABLE "messages" ADD "edited_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "messages" ADD "edit_count" integer NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE "messages" ADD "unsent_at" TIMESTAMP WITH TIME ZONE`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "unsent_at"`);
        await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "edit_count"`);
        await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "edited_at"`);
        await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "reply_to_id"`);
        await queryRunner.query(`DROP TABLE "message_reactions"`);
        await queryRunner.query(`DROP INDEX "public"."message_sealed_texts_message_idx"`);
        await queryRunner.query(`DROP INDEX "public"."message_sealed_texts_created_idx"`);
        await queryRunner.query(`DROP TABLE "message_sealed_texts"`);
    }

}
