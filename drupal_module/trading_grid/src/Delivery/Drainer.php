<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Delivery;

use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\Outbox;
use Drupal\trading_grid\Store\OutboxRow;

/**
 * Drains the outbox: claim a batch, send it, settle each row by its result, repeat until
 * nothing is due or the time budget is spent. Any number of drainers may run at once
 * (after the response, on cron, from drush, in a worker): the outbox leases keep them
 * apart and keep each ordering key in order.
 *
 * Each row is sent with an idempotency key derived from the row and its payload, so a
 * row sent again after a crash or an expired lease is absorbed by the server. The lease
 * must outlast a batch: a batch that takes longer than $leaseSeconds may be claimed and
 * sent by another worker too (harmless thanks to the key, but wasted).
 */
final class Drainer
{
    /** Result fields that carry the Trading Grid id of what was written, by preference. */
    private const REMOTE_ID_FIELDS = ['partnerId', 'issueId', 'documentId', 'itemId', 'requestId', 'commentId',
        'articleId', 'notificationId', 'uniqueId'];

    /** Operations whose success means the remote resource is gone. */
    private const WITHDRAWING_OPS = ['partner.delete', 'document.retract', 'catalog.withdraw', 'company_user.delete'];

    /**
     * @param object|null $logger a PSR-3 logger (anything with log($level, $message, $context))
     *   or a callable taking the same three arguments; psr/log itself is not required
     */
    public function __construct(
        private readonly Outbox $outbox,
        private readonly SenderInterface $sender,
        private readonly ?LinkStore $links = null,
        private readonly ?object $logger = null,
    ) {
    }

    public function drain(
        string $worker,
        float $timeBudgetSeconds = 5.0,
        int $batchSize = 100,
        int $leaseSeconds = 60,
    ): DrainReport {
        $started = hrtime(true);
        $elapsed = static fn (): float => (hrtime(true) - $started) / 1e9;
        $n = ['sent' => 0, 'failed' => 0, 'dead' => 0, 'released' => 0, 'stale' => 0, 'batches' => 0];
        $stoppedBy = 'empty';

        while (true) {
            if ($n['batches'] > 0 && $elapsed() >= $timeBudgetSeconds) {
                $stoppedBy = 'budget';
                break;
            }
            $rows = $this->outbox->claim($worker, $batchSize, $leaseSeconds);
            if ($rows === []) {
                break;
            }
            $n['batches']++;
            $ops = array_map(static fn (OutboxRow $row): array => $row->toOperation(), $rows);
            try {
                $results = $this->sender->sendBatch($ops);
            } catch (\Throwable $e) {
                // The batch as a whole could not go out (no client, bad configuration, ...):
                // count an attempt on every row so the backoff applies, and stop here.
                $this->log('error', 'Trading Grid batch of {count} operations failed: {message}', [
                    'count' => count($rows), 'message' => $e->getMessage(), 'exception' => $e,
                ]);
                foreach ($rows as $row) {
                    $this->settleFailure($row, 'transport', $e->getMessage(), true, null, $n);
                }
                $stoppedBy = 'error';
                break;
            }

            $byId = [];
            foreach ($results as $result) {
                if (is_array($result) && isset($result['id']) && is_string($result['id'])) {
                    $byId[$result['id']] = $result;
                }
            }
            $progress = false;
            foreach ($rows as $i => $row) {
                $result = $results[$i] ?? null;
                if (!is_array($result) || ($result['id'] ?? null) !== $ops[$i]['id']) {
                    $result = $byId[$ops[$i]['id']] ?? null;
                }
                if ($result === null) {
                    $this->outbox->release($row);
                    $n['released']++;
                    continue;
                }
                $progress = $this->settle($row, $result, $n) || $progress;
            }
            if (!$progress) {
                // Everything came back unsent: claiming the same rows again at once would
                // only spin until the budget ends.
                $stoppedBy = 'stalled';
                break;
            }
        }

        return new DrainReport(
            sent: $n['sent'],
            failed: $n['failed'],
            dead: $n['dead'],
            released: $n['released'],
            stale: $n['stale'],
            batches: $n['batches'],
            seconds: $elapsed(),
            stoppedBy: $stoppedBy,
        );
    }

    /**
     * Settles one row by its result; false when the row was given back untouched.
     *
     * @param array<string,mixed> $result
     * @param array<string,int> $n
     */
    private function settle(OutboxRow $row, array $result, array &$n): bool
    {
        if (($result['ok'] ?? false) === true) {
            $answer = is_array($result['result'] ?? null) ? $result['result'] : [];
            $status = in_array($row->op, self::WITHDRAWING_OPS, true) ? LinkStore::WITHDRAWN : LinkStore::SYNCED;
            $completed = $this->settleWithLink(
                fn (): bool => $this->outbox->complete($row, $result),
                function () use ($row, $status, $answer): void {
                    $this->link($row, $status, self::remoteId($answer), null);
                },
            );
            $n[$completed ? 'sent' : 'stale']++;
            return true;
        }
        $error = is_array($result['error'] ?? null) ? $result['error'] : [];
        $class = is_string($error['class'] ?? null) ? $error['class'] : 'api';
        if ($class === 'not_found' && in_array($row->op, self::WITHDRAWING_OPS, true)) {
            // What was to be removed is not there: done, whether an earlier attempt
            // removed it (its answer lost) or someone else did.
            $completed = $this->settleWithLink(
                fn (): bool => $this->outbox->complete($row, $result),
                function () use ($row): void {
                    $this->link($row, LinkStore::WITHDRAWN, null, null);
                },
            );
            $n[$completed ? 'sent' : 'stale']++;
            return true;
        }
        if ($class === 'blocked') {
            // An earlier op of the same key failed within the batch: not this row's fault.
            if ($this->outbox->release($row)) {
                $n['released']++;
            }
            return false;
        }
        $message = is_string($error['message'] ?? null) ? $error['message'] : 'unknown error';
        $retryAfter = is_numeric($error['retryAfter'] ?? null) ? (float) $error['retryAfter'] : null;
        $this->settleFailure($row, $class, $message, (bool) ($error['retryable'] ?? false), $retryAfter, $n);
        return true;
    }

    /** @param array<string,int> $n */
    private function settleFailure(
        OutboxRow $row,
        string $class,
        string $message,
        bool $retryable,
        ?float $retryAfter,
        array &$n,
    ): void {
        $state = Outbox::STALE;
        $this->settleWithLink(
            function () use ($row, $class, $message, $retryable, $retryAfter, &$state): bool {
                $state = $this->outbox->fail($row, $class, $message, $retryable, $retryAfter);
                return $state !== Outbox::STALE;
            },
            function () use ($row, $class, $message, &$state): void {
                $this->link(
                    $row,
                    $state === Outbox::DEAD ? LinkStore::DEAD : LinkStore::FAILED,
                    null,
                    "$class: $message"
                );
            },
        );
        if ($state === Outbox::STALE) {
            $n['stale']++;
            return;
        }
        $dead = $state === Outbox::DEAD;
        $n[$dead ? 'dead' : 'failed']++;
        $template = 'Trading Grid {op} (outbox {id}, {key}) {outcome}: {class}: {message}';
        $this->log($dead ? 'error' : 'warning', $template, [
            'op' => $row->op, 'id' => $row->id, 'key' => $row->orderingKey,
            'outcome' => $dead ? 'dead-lettered' : 'will be retried',
            'class' => $class, 'message' => $message,
        ]);
    }

    /**
     * Settles a row and, when that took, records its link status, in one transaction when
     * there is a link to write: otherwise a slow worker's "failed" could land after the
     * "synced" of the worker that retried the row, and the entity would show the wrong
     * status. If the transaction fails, the row stays leased and is sent again after its
     * lease (the idempotency key absorbs the repeat).
     *
     * @param \Closure(): bool $settle
     * @param \Closure(): void $link
     */
    private function settleWithLink(\Closure $settle, \Closure $link): bool
    {
        $work = static function () use ($settle, $link): bool {
            if (!$settle()) {
                return false;
            }
            $link();
            return true;
        };
        return $this->links === null ? $work() : $this->outbox->transaction($work);
    }

    private function link(OutboxRow $row, string $status, ?string $remoteId, ?string $error): void
    {
        if ($this->links !== null && $row->entityType !== null && $row->entityId !== null) {
            $this->links->record($row->entityType, $row->entityId, $row->flow, $status, $remoteId, $error, $row->op);
        }
    }

    /** @param array<mixed> $answer */
    private static function remoteId(array $answer): ?string
    {
        foreach (self::REMOTE_ID_FIELDS as $field) {
            if (isset($answer[$field]) && (is_string($answer[$field]) || is_int($answer[$field]))) {
                return (string) $answer[$field];
            }
        }
        return null;
    }

    /** @param array<string,mixed> $context */
    private function log(string $level, string $message, array $context): void
    {
        if ($this->logger === null) {
            return;
        }
        if (is_callable($this->logger)) {
            ($this->logger)($level, $message, $context);
        } elseif (method_exists($this->logger, 'log')) {
            $this->logger->log($level, $message, $context);
        }
    }
}
