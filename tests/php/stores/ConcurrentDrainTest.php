<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\Outbox;

/**
 * Several PHP processes drain one outbox at once, as web heads and workers do in a
 * site: every op is delivered, none twice, and each ordering key keeps its order.
 */
final class ConcurrentDrainTest extends StoreTestCase
{
    private const OPS = 2000;
    private const KEYS = 200;
    private const WORKERS = 4;

    private string $dir;

    protected function setUp(): void
    {
        parent::setUp();
        $this->dir = sys_get_temp_dir() . '/tg-drain-' . getmypid() . '-' . bin2hex(random_bytes(4));
        mkdir($this->dir . '/failed', 0777, true);
    }

    protected function tearDown(): void
    {
        parent::tearDown();
        foreach (glob($this->dir . '/failed/*') ?: [] as $f) {
            unlink($f);
        }
        @rmdir($this->dir . '/failed');
        @unlink($this->dir . '/sent.tsv');
        @rmdir($this->dir);
    }

    public function testWorkersInParallelDeliverEveryOpOnceAndInOrderPerKey(): void
    {
        $outbox = new Outbox($this->pdo, self::PREFIX);
        $this->pdo->beginTransaction();
        for ($i = 0; $i < self::OPS; $i++) {
            $key = $i % self::KEYS;
            $seq = intdiv($i, self::KEYS);
            // Alternating ops so successive saves of a key stay separate rows (no coalescing).
            $outbox->enqueue(
                $seq % 2 ? 'onboarding.step' : 'partner.upsert',
                ['key' => $key, 'seq' => $seq],
                "partner:p$key",
                'partner',
                'user',
                (string) $key
            );
        }
        $this->pdo->commit();
        $this->assertSame(self::OPS, $outbox->count());

        $record = $this->dir . '/sent.tsv';
        $workers = [];
        for ($w = 1; $w <= self::WORKERS; $w++) {
            $proc = self::spawn(
                'drain-worker.php',
                [self::PREFIX, "worker-$w", $record, $this->dir . '/failed', '90'],
                $pipes
            );
            $workers[] = [$proc, $pipes];
        }
        $totals = [];
        foreach ($workers as $w => [$proc, $pipes]) {
            $out = (string) stream_get_contents($pipes[1]);
            $err = (string) stream_get_contents($pipes[2]);
            $this->assertSame(0, proc_close($proc), "worker $w: $err");
            $totals[$w] = json_decode(trim($out), true);
        }

        $sent = [];
        $failed = 0;
        $order = [];
        foreach (file($record, FILE_IGNORE_NEW_LINES) as $line) {
            [$outcome, $id, $key, $seq] = explode("\t", $line);
            if ($outcome === 'fail') {
                $failed++;
                continue;
            }
            $this->assertArrayNotHasKey($id, $sent, "$id was delivered twice");
            $sent[$id] = true;
            $order[$key][] = (int) $seq;
        }
        $this->assertCount(self::OPS, $sent, 'every op was delivered');
        $this->assertCount(self::KEYS, $order);
        foreach ($order as $key => $seqs) {
            $this->assertSame(range(0, self::OPS / self::KEYS - 1), $seqs, "order of $key");
        }
        $this->assertGreaterThan(0, $failed, 'some sends failed once and were retried');
        $this->assertSame(self::OPS, array_sum(array_column($totals, 'sent')));
        $this->assertSame($failed, array_sum(array_column($totals, 'failed')));
        $this->assertSame(0, array_sum(array_column($totals, 'dead')));
        $busy = array_filter($totals, static fn (array $t): bool => $t['sent'] > 0);
        $this->assertGreaterThan(1, count($busy), 'the work was shared: ' . json_encode($totals));

        $this->assertSame(0, $outbox->count());
        $links = new LinkStore($this->pdo, self::PREFIX);
        $this->assertSame(self::KEYS, $links->count(['status' => 'synced']));
    }
}
