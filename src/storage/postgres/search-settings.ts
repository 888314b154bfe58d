/**
 * Search settings of the Postgres store that configuration needs without loading the database driver
 * (the store's modules are imported only when INDEX_STORE=postgres).
 */

/**
 * pgvector's ef_search by default (DATABASE_EF_SEARCH sets another). Measured at 100k passages against
 * pgvector's exact order (300 squad questions, 50 neighbours asked, iterative scans on): recall@10 0.990 at
 * 40, 0.998 at 100, 0.999 at 200, with the search taking 1.8, 2.2 and 3.7 ms. The local index searches with
 * more (`DEFAULT_HNSW`), which hnswlib's graph needs at a million passages; a larger Postgres index may
 * want more here too.
 */
export const PG_EF_SEARCH = 100;
