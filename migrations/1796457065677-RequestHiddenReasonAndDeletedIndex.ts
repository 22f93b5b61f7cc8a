import { MigrationInterface, QueryRunner } from "typeorm";

export class RequestHiddenReasonAndDeletedIndex1796457065677 implements MigrationInterface {
    name = 'RequestHiddenReasonAndDeletedIndex1796457065677'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "message_requests" ADD "hidden_reason" character varying(16)`);
        // Requests hidden before the reason was stored: only two rules existed, a new sender
        // account or a link. A text the matcher of the time (lib/text.ts LINK, here in
        // PostgreSQL's syntax) saw no link in was hidden for its sender's age; otherwise the
        // first rule that applied wins, judged against the default NEW_ACCOUNT_HOURS (72),
        // since a migration cannot know the deployment's setting.
        await queryRunner.query(`
          UPDATE "message_requests" r
             SET "hidden_reason" = CASE
               WHEN r.text !~* '(https?://|www\\.)\\S+|\\y[a-z0-9-]+(\\.[a-z0-9-]+)*\\.(com|net|org|io|ly|me|co|app|gg|xyz|info|link|click|ru|cn|tk)\\y' THEN 'NEW_ACCOUNT'
               WHEN r.created_at - u.created_at < interval '72 hours' THEN 'NEW_ACCOUNT'
               ELSE 'LINK' END
            FROM "users" u
           WHERE u.id = r.sender_id AND r.hidden`);
        await queryRunner.query(`CREATE INDEX "message_requests_deleted_idx" ON "message_requests"  ("recipient_id", "created_at", "id") WHERE status = 'PENDING' AND deleted_at IS NOT NULL`);
        await queryRunner.query(`ALTER TABLE "message_requests" ADD CONSTRAINT "message_requests_hidden_reason_check" CHECK ((hidden_reason IS NULL AND NOT hidden) OR (hidden AND hidden_reason IN ('NEW_ACCOUNT', 'LINK', 'HIDDEN_WORD')))`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "message_requests" DROP CONSTRAINT "message_requests_hidden_reason_check"`);
        await queryRunner.query(`DROP INDEX "public"."message_requests_deleted_idx"`);
        await queryRunner.query(`ALTER TABLE "message_requests" DROP COLUMN "hidden_reason"`);
    }

}
