<?php

declare(strict_types=1);

namespace TradingGrid\Chaos;

use Drupal\trading_grid\Delivery\Drainer;
use Drupal\trading_grid\Delivery\ExtensionSender;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\Outbox;
use Drupal\trading_grid\Store\Schema;
use TradingGrid\Tests\Sandbox;
use TradingGrid\Tests\Stores\TestDatabase;

/**
 * Runs one delivery scenario end to end: a real outbox on a real database, real drain
 * worker processes with the real extension, the sandbox with faults switched on, and a
 * disruption (none, SIGKILLed workers, a stopped sandbox). Afterwards it counts, from
 * the sandbox's own records, what was applied against what was enqueued.
 */
final class Harness
{
    public const MAX_ATTEMPTS = 8;

    /** @var array<string,array<string,mixed>> fault settings per scenario */
    private const FAULTS = [
        'chaos' => ['errorRate' => 0.2, 'rateLimitRate' => 0.1, 'retryAfter' => 0.2, 'resetRate' => 0.05,
            'latencySpikeRate' => 0.02, 'latencySpikeMs' => 250, 'writesOnly' => true],
        'crash' => ['errorRate' => 0.05, 'resetRate' => 0.02, 'writesOnly' => true],
        'outage' => ['writesOnly' => true],
    ];

    /** @var array<int,array{proc:resource,pipes:array,name:string}> */
    private array $workers = [];
    private int $spawned = 0;
    /** @var list<array<string,int|string>> */
    private array $workerTotals = [];
    private string $stopFile;
    private string $log;

    public function __construct(
        private readonly int $ops,
        private readonly int $workerCount,
        private readonly bool $verbose = false,
    ) {
        $this->log = sys_get_temp_dir() . '/tg-chaos-workers-' . getmypid() . '.log';
    }

    /** @return array<string,mixed> */
    public static function clientOptions(string $baseUrl): array
    {
        return [
            'baseUrl' => $baseUrl, 'tenant' => Sandbox::TENANT,
            'clientId' => Sandbox::CLIENT_ID, 'clientSecret' => Sandbox::CLIENT_SECRET,
            'timeoutMs' => 3000, 'connectTimeoutMs' => 1000, 'concurrency' => 16,
            'maxRetries' => 3, 'retryBaseMs' => 20, 'retryMaxMs' => 500,
        ];
    }

    /** @return array<string,mixed> the scenario's figures */
    public function run(string $scenario): array
    {
        if (!isset(self::FAULTS[$scenario])) {
            throw new \InvalidArgumentException("scenario: unknown '$scenario' (chaos, crash, outage)");
        }
        $started = microtime(true);
        $this->spawned = 0;
        $this->workerTotals = [];
        $prefix = "chaos_{$scenario}_";
        $pdo = TestDatabase::connect();
        Schema::uninstall($pdo, $prefix);
        Schema::install($pdo, $prefix);
        $outbox = new Outbox($pdo, $prefix, null, self::MAX_ATTEMPTS, 1, 8);
        $this->stopFile = sys_get_temp_dir() . "/tg-chaos-stop-" . getmypid() . "-$scenario";
        @unlink($this->stopFile);

        $port = 20000 + random_int(0, 30000);
        $data = sys_get_temp_dir() . "/tg-chaos-sandbox-" . getmypid() . '.json';
        @unlink($data);
        $sandboxArgs = $scenario === 'outage' ? ['--listen', "127.0.0.1:$port", '--data', $data] : [];
        $sandbox = Sandbox::start($sandboxArgs);
        $client = new \TradingGrid\Client(self::clientOptions($sandbox->baseUrl));

        $load = new Workload(substr($scenario, 0, 2) . bin2hex(random_bytes(3)));
        foreach ($load->seedPartners() as $i => $op) {
            $r = $client->send(['id' => "seed-$i", 'op' => $op['op'], 'payload' => $op['payload']]);
            if (!$r['ok']) {
                throw new \RuntimeException('seeding failed: ' . json_encode($r['error']));
            }
        }
        $baseline = $sandbox->stats()['applied'] ?? [];

        /** @var array<string,array<int,true>> $expected distinct outbox rows per operation */
        $expected = [];
        $enqueue = function (array $ops) use ($outbox, &$expected): void {
            foreach ($ops as $op) {
                $id = $outbox->enqueue($op['op'], $op['payload'], $op['orderingKey'], $op['flow'], $op['entityType'], $op['entityId']);
                $expected[$op['op']][$id] = true;
            }
        };
        $firstPart = $scenario === 'outage' ? intdiv($this->ops, 2) : $this->ops;
        $enqueue($load->next($firstPart));

        $sandbox->admin('POST', '/_sandbox/faults', self::FAULTS[$scenario]);
        $env = TestDatabase::childEnv() + [];
        $env['TG_CHAOS_PREFIX'] = $prefix;
        $env['TG_CHAOS_STOP'] = $this->stopFile;
        $env['TG_CHAOS_LEASE'] = $scenario === 'crash' ? '3' : '10';
        $env['TG_CHAOS_BASE_URL'] = $sandbox->baseUrl;
        for ($i = 0; $i < $this->workerCount; $i++) {
            $this->spawn($env);
        }

        $kills = 0;
        $outageSeconds = 0.0;
        $deadline = microtime(true) + max(120, $this->ops / 10);
        // The first kill comes as soon as a worker holds a lease (mid-batch), so even a
        // short run that drains in a second has one; later ones at random intervals.
        $nextKill = null;
        $outageDone = $scenario !== 'outage';
        while (true) {
            $counts = $outbox->counts();
            $open = ($counts['pending'] ?? 0) + ($counts['leased'] ?? 0);
            if ($outageDone && $open === 0) {
                break;
            }
            if (microtime(true) > $deadline) {
                $this->stopWorkers();
                $sandbox->stop();
                throw new \RuntimeException("$scenario: outbox not drained in time: " . json_encode($counts));
            }
            if ($scenario === 'crash' && $nextKill === null && ($counts['leased'] ?? 0) > 0) {
                $nextKill = microtime(true);
            }
            if ($scenario === 'crash' && $nextKill !== null && microtime(true) >= $nextKill && $this->workers !== []) {
                $victim = array_rand($this->workers);
                proc_terminate($this->workers[$victim]['proc'], 9);
                $this->reap($victim, true);
                $kills++;
                $this->spawn($env);
                $nextKill = microtime(true) + 0.2 + mt_rand() / mt_getrandmax();
            }
            if (!$outageDone && $this->sentFraction($outbox, $firstPart) >= 0.25) {
                // The network goes away while work is in flight; the portal keeps saving.
                $down = microtime(true);
                $sandbox->stop();
                $enqueue($load->next($this->ops - $firstPart));
                sleep(4);
                $sandbox = Sandbox::start($sandboxArgs);
                $outageSeconds = microtime(true) - $down;
                $sandbox->admin('POST', '/_sandbox/faults', self::FAULTS[$scenario]);
                $outageDone = true;
            }
            $this->reapExited();
            usleep($scenario === 'crash' && $kills === 0 ? 2000 : 100000);
        }
        $this->stopWorkers();
        if ($scenario === 'crash' && $kills === 0) {
            $sandbox->stop();
            throw new \RuntimeException('crash: the outbox drained before any worker could be killed; nothing was tested');
        }
        $faults = $sandbox->stats()['faults'] ?? [];
        $attempts = ['sent' => 0, 'failed' => 0, 'stale' => 0];
        foreach ($this->workerTotals as $t) {
            foreach ($attempts as $k => $_) {
                $attempts[$k] += (int) ($t[$k] ?? 0);
            }
        }

        // Dead letters: count them, switch the faults off, replay and drain them.
        $sandbox->admin('POST', '/_sandbox/faults', ['errorRate' => 0, 'rateLimitRate' => 0, 'resetRate' => 0]);
        $deadLetters = $outbox->list(['state' => 'dead'], 1000);
        $deadByClass = [];
        foreach ($deadLetters as $d) {
            $deadByClass[$d['error_class'] ?? $d['errorClass'] ?? '?'] = ($deadByClass[$d['error_class'] ?? $d['errorClass'] ?? '?'] ?? 0) + 1;
        }
        $replayed = $outbox->replayDead();
        $drainer = new Drainer($outbox, new ExtensionSender($client), new LinkStore($pdo, $prefix));
        for ($i = 0; $i < 20 && ($outbox->counts()['pending'] ?? 0) > 0; $i++) {
            $drainer->drain('replayer', 10.0, 100, 30);
        }
        $left = $outbox->counts();

        $stats = $sandbox->stats();
        $lost = $duplicated = $enqueued = 0;
        $perOp = [];
        foreach ($expected as $op => $ids) {
            $applied = ($stats['applied'][$op] ?? 0) - ($baseline[$op] ?? 0);
            $want = count($ids);
            $enqueued += $want;
            $lost += max(0, $want - $applied);
            $duplicated += max(0, $applied - $want);
            $perOp[$op] = "$applied/$want";
        }
        $wrongState = $this->checkFinalState($client, $load);
        $orderViolations = $this->checkOrder($client, $load);
        $sandbox->stop();
        @unlink($data);
        @unlink($this->stopFile);
        Schema::uninstall($pdo, $prefix);

        return [
            'scenario' => $scenario,
            'driver' => TestDatabase::driver(),
            'generated' => $this->ops,
            'outboxRows' => $enqueued,
            'workers' => $this->workerCount,
            'workerProcesses' => $this->spawned,
            'kills' => $kills,
            'outageSeconds' => round($outageSeconds, 1),
            'faults' => $faults,
            'failedAttempts' => $attempts['failed'],
            'staleResults' => $attempts['stale'],
            'duplicatesAbsorbed' => ($stats['duplicates'] ?? 0),
            'deadLetters' => count($deadLetters),
            'deadByClass' => $deadByClass,
            'replayed' => $replayed,
            'left' => array_filter($left),
            'lost' => $lost,
            'duplicated' => $duplicated,
            'wrongFinalState' => $wrongState,
            'orderViolations' => $orderViolations,
            'perOp' => $perOp,
            'seconds' => round(microtime(true) - $started, 1),
        ];
    }

    private function sentFraction(Outbox $outbox, int $total): float
    {
        $counts = $outbox->counts();
        $open = ($counts['pending'] ?? 0) + ($counts['leased'] ?? 0);
        return $total > 0 ? 1 - $open / $total : 1.0;
    }

    /** @param array<string,string> $env */
    private function spawn(array $env): void
    {
        $name = 'w' . (++$this->spawned);
        $env['TG_CHAOS_WORKER'] = $name;
        $cmd = [PHP_BINARY, '-d', 'extension=' . self::extensionPath(), __DIR__ . '/worker.php'];
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['file', $this->log, 'a']], $pipes, null, $env);
        if (!is_resource($proc)) {
            throw new \RuntimeException('cannot start a drain worker');
        }
        $this->workers[] = ['proc' => $proc, 'pipes' => $pipes, 'name' => $name];
    }

    public static function extensionPath(): string
    {
        return getenv('TG_EXTENSION') ?: dirname(__DIR__, 2) . '/target/debug/libtrading_grid.so';
    }

    private function reap(int $i, bool $killed): void
    {
        $w = $this->workers[$i];
        $out = stream_get_contents($w['pipes'][1]);
        fclose($w['pipes'][1]);
        proc_close($w['proc']);
        unset($this->workers[$i]);
        if (!$killed && is_string($out) && $out !== '') {
            $totals = json_decode(trim($out), true);
            if (is_array($totals)) {
                $this->workerTotals[] = $totals;
            }
        }
    }

    /** Workers exit only when told to; one that died on its own is replaced by the loop's caller. */
    private function reapExited(): void
    {
        foreach ($this->workers as $i => $w) {
            $status = proc_get_status($w['proc']);
            if (!$status['running']) {
                fwrite(STDERR, "worker {$w['name']} exited on its own with code {$status['exitcode']}\n");
                $this->reap($i, false);
            }
        }
    }

    private function stopWorkers(): void
    {
        touch($this->stopFile);
        foreach (array_keys($this->workers) as $i) {
            $this->reap($i, false);
        }
    }

    /** Partners and documents must end in the state of their last enqueued change. */
    private function checkFinalState(\TradingGrid\Client $client, Workload $load): int
    {
        $wrong = 0;
        foreach ($load->partnerRevision as $ext => $rev) {
            try {
                if (($client->getPartner($ext)['revision'] ?? null) !== $rev) {
                    $wrong++;
                }
            } catch (\TradingGrid\Exception) {
                $wrong++;
            }
        }
        foreach ($load->networkUsers as $login => $roles) {
            try {
                $held = array_column($client->companyUserRoles(Workload::HUB, $login)['roles'], 'roleName');
                $wrong += $held === $roles ? 0 : 1;
            } catch (\TradingGrid\Exception) {
                $wrong++;
            }
        }
        foreach ($load->documentVersion as $doc => $version) {
            try {
                $d = $client->getDocument($doc);
                $ok = isset($load->documentRetracted[$doc]) ? $d['status'] === 'retracted'
                    : ($d['status'] === 'published' && (int) $d['currentVersion'] === $version);
                $wrong += $ok ? 0 : 1;
            } catch (\TradingGrid\Exception) {
                $wrong++;
            }
        }
        return $wrong;
    }

    /**
     * Per entity, the network must have seen the changes in the order the portal made
     * them: partner revisions and document versions only ever go up in the event feed.
     */
    private function checkOrder(\TradingGrid\Client $client, Workload $load): int
    {
        $violations = 0;
        $lastRevision = [];
        $lastVersion = [];
        $cursor = null;
        do {
            $page = $client->events($cursor, 500);
            foreach ($page['events'] as $e) {
                $d = $e['data'];
                if (in_array($e['type'], ['partner.created', 'partner.updated'], true) && isset($d['externalId'], $d['revision'])) {
                    if ($d['revision'] <= ($lastRevision[$d['externalId']] ?? 0)) {
                        $violations++;
                    }
                    $lastRevision[$d['externalId']] = $d['revision'];
                }
                if ($e['type'] === 'document.published' && isset($d['documentId'], $d['version'])) {
                    if ($d['version'] <= ($lastVersion[$d['documentId']] ?? 0)) {
                        $violations++;
                    }
                    $lastVersion[$d['documentId']] = $d['version'];
                }
            }
            $cursor = $page['nextCursor'];
        } while ($page['hasMore']);
        return $violations;
    }
}
