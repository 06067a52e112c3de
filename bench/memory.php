<?php
/**
 * Memory and process life.
 *   --mode idle    RSS at the end of a PHP process that does nothing (run it with and
 *                  without -d extension=... to see what loading the extension costs).
 *   --mode used    RSS after the extension has done real work: a client, its runtime
 *                  threads and connection, one sendBatch of --ops operations.
 *   --mode growth  RSS while --total operations are delivered in batches of --batch
 *                  (one process, one client); growth = last reading − first reading.
 *   --mode fork    first-call latency in freshly forked children of a process whose
 *                  runtime already ran (the PHP-FPM situation), --forks times.
 * One JSON line out.
 */

declare(strict_types=1);

namespace TradingGrid\Bench;

require __DIR__ . '/lib.php';

$o = options($argv);
$mode = $o['mode'] ?? 'idle';

/** A partner upsert batch with unique ids (the sandbox keeps every one). */
function growthOps(int $from, int $n): array
{
    $ops = [];
    for ($i = $from; $i < $from + $n; $i++) {
        $ops[] = ['id' => "g-$i", 'op' => 'partner.upsert', 'payload' => [
            'externalId' => sprintf('grow-%07d', $i), 'companyName' => "Growth Supplier $i",
            'partnerType' => 'supplier', 'country' => 'DE', 'contactEmail' => "buyer$i@grow.example",
            'revision' => $i, 'attributes' => ['vat' => sprintf('DE%09d', $i)],
        ]];
    }
    return $ops;
}

switch ($mode) {
    case 'idle':
        emit(['mode' => 'idle', 'extension' => extension_loaded('trading_grid'), 'rssKb' => rssKb()]);
        break;

    case 'used':
        $client = new \TradingGrid\Client(clientOptions(32));
        $n = (int) ($o['ops'] ?? 100);
        $ok = 0;
        foreach ($client->sendBatch(growthOps(9_000_000 + getmypid() * 1000, $n)) as $r) {
            $ok += $r['ok'] ? 1 : 0;
        }
        unset($r);
        emit(['mode' => 'used', 'ok' => $ok, 'ops' => $n, 'rssKb' => rssKb(),
            'threads' => (int) preg_replace('/\D/', '', (string) shell_exec('grep Threads /proc/' . getmypid() . '/status'))]);
        break;

    case 'growth':
        $total = (int) ($o['total'] ?? 100000);
        $batch = (int) ($o['batch'] ?? 500);
        $every = max($batch, intdiv($total, 10));
        $client = new \TradingGrid\Client(clientOptions(32));
        $series = [];
        $ok = 0;
        $t0 = hrtime(true);
        for ($done = 0; $done < $total; $done += $batch) {
            $results = $client->sendBatch(growthOps($done, min($batch, $total - $done)));
            foreach ($results as $r) {
                $ok += $r['ok'] ? 1 : 0;
            }
            unset($results, $r);
            if ($done === 0 || ($done + $batch) % $every === 0 || $done + $batch >= $total) {
                $series[] = [min($done + $batch, $total), rssKb()];
            }
        }
        $secs = (hrtime(true) - $t0) / 1e9;
        emit(['mode' => 'growth', 'total' => $total, 'batch' => $batch, 'ok' => $ok, 'seconds' => $secs,
            'series' => $series, 'firstKb' => $series[0][1], 'lastKb' => end($series)[1],
            'growthKb' => end($series)[1] - $series[0][1],
            'peakKb' => max(array_column($series, 1))]);
        break;

    case 'fork':
        $forks = (int) ($o['forks'] ?? 7);
        $parent = new \TradingGrid\Client(clientOptions(8));
        $partner = static fn (string $id): array => ['externalId' => $id, 'companyName' => "Forked $id",
            'partnerType' => 'carrier', 'country' => 'FR', 'contactEmail' => "ops@$id.example", 'revision' => 1];
        // The parent's own first and second call, for comparison (a fresh process).
        $t = hrtime(true);
        $parent->upsertPartner($partner('fork-parent-1'));
        $parentFirst = (hrtime(true) - $t) / 1e6;
        $t = hrtime(true);
        $parent->upsertPartner($partner('fork-parent-2'));
        $parentSecond = (hrtime(true) - $t) / 1e6;
        $children = [];
        for ($k = 0; $k < $forks; $k++) {
            $pair = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);
            $pid = pcntl_fork();
            if ($pid === 0) {
                fclose($pair[0]);
                $r = [];
                try {
                    // A new client in the child: runtime rebuilt for the new pid, token, connect.
                    $t = hrtime(true);
                    $c = new \TradingGrid\Client(clientOptions(8));
                    $c->upsertPartner($partner("fork-$k-a"));
                    $r['firstMs'] = (hrtime(true) - $t) / 1e6;
                    $t = hrtime(true);
                    $c->upsertPartner($partner("fork-$k-b"));
                    $r['secondMs'] = (hrtime(true) - $t) / 1e6;
                    // The client object the parent built, used in the child.
                    $t = hrtime(true);
                    $parent->upsertPartner($partner("fork-$k-c"));
                    $r['inheritedMs'] = (hrtime(true) - $t) / 1e6;
                } catch (\Throwable $e) {
                    $r['error'] = $e->getMessage();
                }
                fwrite($pair[1], json_encode($r));
                fclose($pair[1]);
                posix_kill(posix_getpid(), SIGKILL); // no shutdown hooks in the child
            }
            fclose($pair[1]);
            stream_set_timeout($pair[0], 30);
            $children[] = json_decode((string) stream_get_contents($pair[0]), true) ?? ['error' => 'child hung or died'];
            fclose($pair[0]);
            pcntl_waitpid($pid, $status);
        }
        $col = static fn (string $k): array => array_column(array_filter($children, fn ($c) => isset($c[$k])), $k);
        emit(['mode' => 'fork', 'forks' => $forks, 'errors' => array_values(array_filter(array_column($children, 'error'))),
            'firstMs' => median($col('firstMs')), 'secondMs' => median($col('secondMs')),
            'inheritedMs' => median($col('inheritedMs')), 'firstMaxMs' => $col('firstMs') ? max($col('firstMs')) : 0,
            'parentFirstMs' => $parentFirst, 'parentSecondMs' => $parentSecond, 'children' => $children]);
        break;

    default:
        fwrite(STDERR, "unknown --mode $mode\n");
        exit(2);
}
