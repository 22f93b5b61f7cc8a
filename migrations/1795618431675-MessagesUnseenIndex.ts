import { MigrationInterface, QueryRunner } from "typeorm";

export class MessagesUnseenIndex1795618431675 implements MigrationInterface {
    name = 'MessagesUnseenIndex1795618431675'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // What keeps messaging fast at 1M+ messages:
        //  - inbox: conversation_members_inbox_idx (user_id, activity_at DESC, conversation_id DESC) WHERE in_inbox
        //    (Initial), one range scan per page;
        //  - history and last message: messages_conversation_seq_key (conversation_id, seq) (Initial);
        //  - unread counts, the badge and seen receipts: this partial index, which holds only the
        //    messages nobody has marked seen yet, so its size follows unread traffic, not history.
        await queryRunner.query(`CREATE INDEX "messages_unseen_idx" ON "messages"  ("conversation_id", "sender_id", "seq") WHERE seen_at IS NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."messages_unseen_idx"`);
    }

}
