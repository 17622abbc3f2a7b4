/**
 * When to retry after a failure: {@link dev.hardmine.retry.Backoff}, the one policy of every
 * retrying reader and client of hardmine (the schema-registry client, the mined-batch subscriber,
 * the dashboard's topic readers). It depends on nothing else of hardmine, so every layer may use it.
 */
package dev.hardmine.retry;
