import { MigrationInterface, QueryRunner } from "typeorm";

export class SessionsRevocation1796457158858 implements MigrationInterface {
    name = 'SessionsRevocation1796457158858'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // Sessions end (SPEC §8): logOut revokes one token by its jti (rows pruned once the
        // token would have expired anyway: revoked_tokens_expires_at); changePassword moves
        // users.session_epoch on, which ends every token issued in an earlier epoch.
        await queryRunner.query(`CREATE TABLE "revoked_tokens" ("jti" uuid NOT NULL, "user_id" uuid NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_b18aa48269f87cafba8c6310624" PRIMARY KEY ("jti"))`);
        await queryRunner.query(`CREATE INDEX "revoked_tokens_expires_at" ON "revoked_tokens"  ("expires_at") `);
        await queryRunner.query(`ALTER TABLE "users" ADD "session_epoch" integer NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE "revoked_tokens" ADD CONSTRAINT "FK_483872b2fdc8f1ec750c9c7567c" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "revoked_tokens" DROP CONSTRAINT "FK_483872b2fdc8f1ec750c9c7567c"`);
        await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "session_epoch"`);
        await queryRunner.query(`DROP INDEX "public"."revoked_tokens_expires_at"`);
        await queryRunner.query(`DROP TABLE "revoked_tokens"`);
    }

}
