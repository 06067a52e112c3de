<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Delivery\SenderInterface;

/**
 * The fake network of the multi-process drain test: appends one line per op to a file
 * shared by all workers (under an exclusive lock, before the results go back, so the
 * file order per ordering key is the send order) and fails some ops once with a
 * retryable error (the first worker to create the op's marker file in $failDir fails it).
 *
 * Line: "<ok|fail>\t<op id>\t<ordering key>\t<payload seq>\t<worker>"
 */
final class RecordingSender implements SenderInterface
{
    public function __construct(
        private readonly string $file,
        private readonly string $worker,
        private readonly ?string $failDir = null,
    ) {
    }

    public function sendBatch(array $ops): array
    {
        $results = [];
        $lines = '';
        foreach ($ops as $key => $op) {
            $fail = $this->failDir !== null && crc32($op['id']) % 7 === 0
                && ($marker = @fopen($this->failDir . '/' . $op['id'], 'x')) !== false;
            if ($fail) {
                fclose($marker);
                $results[$key] = ['id' => $op['id'], 'ok' => false, 'status' => 503, 'attempts' => 1, 'result' => null,
                    'error' => ['class' => 'api', 'retryable' => true, 'retryAfter' => null, 'message' => 'HTTP 503']];
            } else {
                $results[$key] = ['id' => $op['id'], 'ok' => true, 'status' => 200, 'attempts' => 1,
                    'result' => ['partnerId' => 'GC' . $op['payload']['key']], 'error' => null];
            }
            $lines .= sprintf(
                "%s\t%s\t%s\t%d\t%s\n",
                $fail ? 'fail' : 'ok',
                $op['id'],
                $op['orderingKey'],
                $op['payload']['seq'],
                $this->worker
            );
        }
        $fh = fopen($this->file, 'a');
        if ($fh === false || !flock($fh, LOCK_EX)) {
            throw new \RuntimeException("cannot lock $this->file");
        }
        fwrite($fh, $lines);
        fflush($fh);
        flock($fh, LOCK_UN);
        fclose($fh);
        return $results;
    }
}
