import { MigrationInterface, QueryRunner } from "typeorm";

export class ReportsCountTowardAutoBan1796457100953 implements MigrationInterface {
    name = 'ReportsCountTowardAutoBan1796457100953'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "reports" ADD "counts_toward_auto_ban" boolean NOT NULL DEFAULT false`);
        // Reports filed before this decide by the same rule as new ones (countsTowardAutoBan in
        // src/modules/moderation/ban-rules.ts), with NEW_ACCOUNT_HOURS at its default of 72:
        // the reported account had sent the reporter a request or a message before the report,
        // and the reporter was at least 72 hours old when it reported. Existing bans stay.
        await queryRunner.query(`UPDATE "reports" r SET "counts_toward_auto_ban" = true
            FROM "users" u
           WHERE u.id = r.reporter_id
             AND u.created_at <= r.created_at - interval '72 hours'
             AND (EXISTS (SELECT 1 FROM "message_requests" q
                           WHERE q.sender_id = r.reported_id AND q.recipient_id = r.reporter_id AND q.created_at <= r.created_at)
                  OR EXISTS (SELECT 1 FROM "conversations" c JOIN "messages" m ON m.conversation_id = c.id AND m.sender_id = r.reported_id
                              WHERE c.user_low_id = LEAST(r.reporter_id, r.reported_id) AND c.user_high_id = GREATEST(r.reporter_id, r.reported_id)
                                AND m.created_at <= r.created_at))`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "reports" DROP COLUMN "counts_toward_auto_ban"`);
    }

}
