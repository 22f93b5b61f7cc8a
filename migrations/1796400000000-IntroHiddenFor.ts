import { MigrationInterface, QueryRunner } from "typeorm";

export class IntroHiddenFor1796400000000 implements MigrationInterface {
    name = 'IntroHiddenFor1796400000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // A nullable column without a default: a catalogue change, no table rewrite.
        await queryRunner.query(`ALTER TABLE "messages" ADD "hidden_for" uuid`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "hidden_for"`);
    }

}
