import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * conversation_members is the hot-updated table: every message moves both members'
 * activity_at, which is a key of conversation_members_inbox_idx, so none of those updates
 * can be HOT: each leaves a dead row version and a dead entry in both indexes. The
 * default thresholds (20 % / 10 % of the table) scale with all conversations ever opened,
 * while the updates fall on the few that are active: vacuum 1 % and analyze 2 % of the
 * table instead. fillfactor stays at 100: it cannot make these updates HOT, and page
 * pruning already frees room for the HOT ones (read pointers). See docs/deployment.md
 * § PostgreSQL settings for the measurements.
 */
export class ConversationMembersAutovacuum1796471689557 implements MigrationInterface {
    name = 'ConversationMembersAutovacuum1796471689557'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "conversation_members" SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02)`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "conversation_members" RESET (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor)`);
    }

}
