import type { Pool } from 'pg';
import type { PhenomContent } from './phenom-query';

/** A link_previews row (seed 000, "link_previews"). */
export interface StoredPreview extends PhenomContent {
  readonly phenomId: string;
  readonly url: string;
  readonly resolvedAt: Date;
  readonly expiresAt: Date | null;
}

interface PreviewRow {
  phenom_id: string;
  url: string;
  title: string | null;
  description: string | null;
  thumbnail_url: string | null;
  media_type: string | null;
  resolved_at: Date;
  expires_at: Date | null;
}

const COLUMNS = 'phenom_id, url, title, description, thumbnail_url, media_type, resolved_at, expires_at';

const toPreview = (row: PreviewRow): StoredPreview => ({
  phenomId: row.phenom_id,
  url: row.url,
  title: row.title,
  description: row.description,
  thumbnailUrl: row.thumbnail_url,
  mediaType: row.media_type,
  resolvedAt: row.resolved_at,
  expiresAt: row.expires_at,
});

/**
 * link_previews in the chat database. Freshness is judged by the database
 * clock (`now()`) on both read and write, so Lambda clock skew cannot make a
 * preview look fresh or stale.
 */
export class PreviewRepository {
  constructor(private readonly pool: () => Promise<Pick<Pool, 'query'>>) {}

  /** The preview for a phenom_id if it has not expired; a row without expires_at counts as expired. */
  async findFresh(phenomId: string): Promise<StoredPreview | null> {
    const db = await this.pool();
    const { rows } = await db.query<PreviewRow>(`SELECT ${COLUMNS} FROM link_previews WHERE phenom_id = $1 AND expires_at > now()`, [phenomId]);
    return rows[0] ? toPreview(rows[0]) : null;
  }

  /** Inserts or refreshes the preview of a phenom_id; it stays fresh for `ttlHours`. */
  async save(phenomId: string, url: string, content: PhenomContent, ttlHours: number): Promise<StoredPreview> {
    const db = await this.pool();
    const { rows } = await db.query<PreviewRow>(
      `INSERT INTO link_previews (phenom_id, url, title, description, thumbnail_url, media_type, resolved_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, now(), now() + make_interval(hours => $7))
       ON CONFLICT (phenom_id) DO UPDATE SET
         url = EXCLUDED.url,
         title = EXCLUDED.title,
         description = EXCLUDED.description,
         thumbnail_url = EXCLUDED.thumbnail_url,
         media_type = EXCLUDED.media_type,
         resolved_at = EXCLUDED.resolved_at,
         expires_at = EXCLUDED.expires_at
       RETURNING ${COLUMNS}`,
      [phenomId, url, content.title, content.description, content.thumbnailUrl, content.mediaType, ttlHours],
    );
    return toPreview(rows[0]);
  }
}
