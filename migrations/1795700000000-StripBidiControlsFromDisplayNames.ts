import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Display names may no longer carry bidi embeddings, overrides or isolates (U+202A–U+202E,
 * U+2066–U+2069; src/lib/text.ts): names stored before the rule lose them, so no existing
 * name keeps spoofing. A name left blank falls back to the username. Data only; the down
 * migration cannot restore what was removed and does nothing.
 */
export class StripBidiControlsFromDisplayNames1795700000000 implements MigrationInterface {
    name = 'StripBidiControlsFromDisplayNames1795700000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            UPDATE "users"
               SET "display_name" = COALESCE(NULLIF(btrim(regexp_replace("display_name", '[\\u202A-\\u202E\\u2066-\\u2069]', '', 'g')), ''), "username")
             WHERE "display_name" ~ '[\\u202A-\\u202E\\u2066-\\u2069]'`);
    }

    public async down(): Promise<void> {
        // Nothing to undo: the removed characters are not kept.
    }

}
