import { MigrationInterface, QueryRunner } from "typeorm";

export class Initial1795617687634 implements MigrationInterface {
    name = 'Initial1795617687634'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "blocks" ("blocker_id" uuid NOT NULL, "blocked_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_806f6a5d38d031cdd868fd5e37e" PRIMARY KEY ("blocker_id", "blocked_id"))`);
        await queryRunner.query(`CREATE INDEX "blocks_blocked_idx" ON "blocks"  ("blocked_id") `);
        await queryRunner.query(`CREATE TABLE "conversations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_low_id" uuid NOT NULL, "user_high_id" uuid NOT NULL, "status" character varying(16) NOT NULL, "last_seq" bigint NOT NULL DEFAULT '0', "last_message_id" uuid, "last_message_at" TIMESTAMP WITH TIME ZONE, "opened_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ee34f4f7ced4ec8681f26bf04ef" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "conversations_pair_key" ON "conversations"  ("user_low_id", "user_high_id") `);
        await queryRunner.query(`CREATE TABLE "conversation_members" ("conversation_id" uuid NOT NULL, "user_id" uuid NOT NULL, "other_user_id" uuid NOT NULL, "in_inbox" boolean NOT NULL DEFAULT false, "activity_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_read_seq" bigint NOT NULL DEFAULT '0', "last_read_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_5fa9076068b6f2a26fb793d2439" PRIMARY KEY ("conversation_id", "user_id"))`);
        await queryRunner.query(`CREATE TABLE "follows" ("follower_id" uuid NOT NULL, "followee_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_f9294bbb1517cfd99f06f534fe7" PRIMARY KEY ("follower_id", "followee_id"))`);
        await queryRunner.query(`CREATE INDEX "follows_followee_idx" ON "follows"  ("followee_id", "created_at") `);
        await queryRunner.query(`CREATE TABLE "messages" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "conversation_id" uuid NOT NULL, "seq" bigint NOT NULL, "sender_id" uuid NOT NULL, "text" text NOT NULL, "client_message_id" character varying(64), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "seen_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_18325f38ae6de43878487eff986" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "messages_sender_client_id_key" ON "messages"  ("sender_id", "client_message_id") WHERE client_message_id IS NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "messages_conversation_seq_key" ON "messages"  ("conversation_id", "seq") `);
        await queryRunner.query(`CREATE TABLE "message_requests" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "sender_id" uuid NOT NULL, "recipient_id" uuid NOT NULL, "conversation_id" uuid NOT NULL, "message_id" uuid NOT NULL, "text" text NOT NULL, "status" character varying(16) NOT NULL, "hidden" boolean NOT NULL DEFAULT false, "client_message_id" character varying(64), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "accepted_at" TIMESTAMP WITH TIME ZONE, "deleted_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_254cdba4327d6e56ba9580b4df6" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "message_requests_folder_idx" ON "message_requests"  ("recipient_id", "hidden", "created_at", "id") WHERE status = 'PENDING' AND deleted_at IS NULL`);
        await queryRunner.query(`CREATE INDEX "message_requests_sender_created_idx" ON "message_requests"  ("sender_id", "created_at") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "message_requests_sender_client_id_key" ON "message_requests"  ("sender_id", "client_message_id") WHERE client_message_id IS NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "message_requests_one_pending_per_pair" ON "message_requests"  ("sender_id", "recipient_id") WHERE status = 'PENDING'`);
        await queryRunner.query(`CREATE TABLE "messaging_bans" ("user_id" uuid NOT NULL, "until" TIMESTAMP WITH TIME ZONE, "source" character varying(16) NOT NULL, "created_by_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_0f353f5064e1b03793fce77fe9d" PRIMARY KEY ("user_id"))`);
        await queryRunner.query(`CREATE TABLE "notifications" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "type" character varying(40) NOT NULL, "actor_id" uuid NOT NULL, "request_id" uuid, "conversation_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "read_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_6a72c3c0f683f6462415e653c3a" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "notifications_unread_idx" ON "notifications"  ("user_id") WHERE read_at IS NULL`);
        await queryRunner.query(`CREATE INDEX "notifications_user_created_idx" ON "notifications"  ("user_id", "created_at", "id") `);
        await queryRunner.query(`CREATE TABLE "events" ("user_id" uuid NOT NULL, "seq" bigint NOT NULL, "type" character varying(40) NOT NULL, "payload" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_19b2f2a782ff9dba25bd9682961" PRIMARY KEY ("user_id", "seq"))`);
        await queryRunner.query(`CREATE INDEX "events_created_idx" ON "events"  ("created_at") `);
        await queryRunner.query(`CREATE TABLE "event_counters" ("user_id" uuid NOT NULL, "last_seq" bigint NOT NULL DEFAULT '0', CONSTRAINT "PK_699a37681117d235e072e6b2607" PRIMARY KEY ("user_id"))`);
        await queryRunner.query(`CREATE TABLE "reports" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "reporter_id" uuid NOT NULL, "reported_id" uuid NOT NULL, "reason" character varying(20) NOT NULL, "message_id" uuid, "details" text, "status" character varying(12) NOT NULL DEFAULT 'OPEN', "resolution" character varying(20), "resolved_by_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "resolved_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_d9013193989303580053c0b5ef6" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "reports_status_created_idx" ON "reports"  ("status", "created_at") `);
        await queryRunner.query(`CREATE INDEX "reports_reported_created_idx" ON "reports"  ("reported_id", "created_at") `);
        await queryRunner.query(`CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "username" character varying(24) NOT NULL, "display_name" character varying(50) NOT NULL, "avatar_url" text, "birth_date" date NOT NULL, "verified" boolean NOT NULL DEFAULT false, "role" character varying(16) NOT NULL DEFAULT 'USER', "password_hash" text NOT NULL, "dm_policy" character varying(16) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "users_username_key" ON "users"  ("username") `);

        // Hand-written (TypeORM cannot express them; the entities mark them synchronize: false).
        // Inbox: one index-only range scan per page, newest activity first, only visible rows.
        await queryRunner.query(`CREATE INDEX "conversation_members_inbox_idx" ON "conversation_members" ("user_id", "activity_at" DESC, "conversation_id" DESC) WHERE in_inbox`);
        // searchUsers: prefix match on display name, case-insensitively (username is stored lowercase).
        await queryRunner.query(`CREATE INDEX "users_display_name_prefix" ON "users" (lower("display_name") text_pattern_ops)`);
        await queryRunner.query(`CREATE INDEX "users_username_prefix" ON "users" ("username" text_pattern_ops)`);
        // Counters for rate-limiter-flexible (per-account limits shared by every instance).
        await queryRunner.query(`CREATE TABLE "rate_limits" ("key" varchar(255) PRIMARY KEY, "points" integer NOT NULL DEFAULT 0, "expire" bigint)`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "rate_limits"`);
        await queryRunner.query(`DROP INDEX "public"."users_username_prefix"`);
        await queryRunner.query(`DROP INDEX "public"."users_display_name_prefix"`);
        await queryRunner.query(`DROP INDEX "public"."conversation_members_inbox_idx"`);
        await queryRunner.query(`DROP INDEX "public"."users_username_key"`);
        await queryRunner.query(`DROP TABLE "users"`);
        await queryRunner.query(`DROP INDEX "public"."reports_reported_created_idx"`);
        await queryRunner.query(`DROP INDEX "public"."reports_status_created_idx"`);
        await queryRunner.query(`DROP TABLE "reports"`);
        await queryRunner.query(`DROP TABLE "event_counters"`);
        await queryRunner.query(`DROP INDEX "public"."events_created_idx"`);
        await queryRunner.query(`DROP TABLE "events"`);
        await queryRunner.query(`DROP INDEX "public"."notifications_user_created_idx"`);
        await queryRunner.query(`DROP INDEX "public"."notifications_unread_idx"`);
        await queryRunner.query(`DROP TABLE "notifications"`);
        await queryRunner.query(`DROP TABLE "messaging_bans"`);
        await queryRunner.query(`DROP INDEX "public"."message_requests_one_pending_per_pair"`);
        await queryRunner.query(`DROP INDEX "public"."message_requests_sender_client_id_key"`);
        await queryRunner.query(`DROP INDEX "public"."message_requests_sender_created_idx"`);
        await queryRunner.query(`DROP INDEX "public"."message_requests_folder_idx"`);
        await queryRunner.query(`DROP TABLE "message_requests"`);
        await queryRunner.query(`DROP INDEX "public"."messages_conversation_seq_key"`);
        await queryRunner.query(`DROP INDEX "public"."messages_sender_client_id_key"`);
        await queryRunner.query(`DROP TABLE "messages"`);
        await queryRunner.query(`DROP INDEX "public"."follows_followee_idx"`);
        await queryRunner.query(`DROP TABLE "follows"`);
        await queryRunner.query(`DROP TABLE "conversation_members"`);
        await queryRunner.query(`DROP INDEX "public"."conversations_pair_key"`);
        await queryRunner.query(`DROP TABLE "conversations"`);
        await queryRunner.query(`DROP INDEX "public"."blocks_blocked_idx"`);
        await queryRunner.query(`DROP TABLE "blocks"`);
    }

}
