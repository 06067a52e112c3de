<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Delivery\Drainer;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\Outbox;

final class DrainerTest extends StoreTestCase
{
    private Outbox $outbox;
    private LinkStore $links;
    /** @var list<array{0:string, 1:string, 2:array}> */
    private array $logged = [];

    protected function setUp(): void
    {
        parent::setUp();
        $this->outbox = new Outbox($this->pdo, self::PREFIX, $this->clock(), 3, 2, 60, static fn (): float => 0.5);
        $this->links = new LinkStore($this->pdo, self::PREFIX, $this->clock());
    }

    private function drainer(ScriptedSender $sender): Drainer
    {
        $logger = function (string $level, string $message, array $context): void {
            $this->logged[] = [$level, $message, $context];
        };
        return new Drainer($this->outbox, $sender, $this->links, $logger);
    }

    private function enqueuePartner(int $user, int $revision = 1): int
    {
        return $this->outbox->enqueue(
            'partner.upsert',
            ['externalId' => "drupal-user-$user", 'revision' => $revision],
            "partner:drupal-user-$user",
            'partner',
            'user',
            (string) $user
        );
    }

    public function testSentRowsLeaveTheOutboxAndTheirLinksAreSynced(): void
    {
        foreach (range(1, 5) as $i) {
            $this->enqueuePartner($i);
        }
        $sender = new ScriptedSender(static fn (array $op): array => ScriptedSender::ok([
            'partnerId' => 'GC' . substr($op['payload']['externalId'], -1), 'applied' => true,
        ]));
        $report = $this->drainer($sender)->drain('w1', 5.0, 2);

        $this->assertSame(5, $report->sent);
        $this->assertSame(3, $report->batches);
        $this->assertSame('empty', $report->stoppedBy);
        $this->assertSame(0, $this->outbox->count());
        $link = $this->links->get('user', '3', 'partner');
        $this->assertSame('synced', $link['status']);
        $this->assertSame('GC3', $link['remoteId']);
        $this->assertSame('partner.upsert', $link['lastOp']);
        $this->assertSame($this->now, $link['syncedAt']);
    }

    public function testOpsCarryTheirOrderingKeyAndAStableIdempotencyKey(): void
    {
        $id = $this->enqueuePartner(1);
        $sender = new ScriptedSender(static fn (): array => ScriptedSender::error('transport', true, 'reset'));
        $this->drainer($sender)->drain('w1');
        $this->now += 60;
        $this->drainer($sender)->drain('w1');

        $this->assertCount(2, $sender->batches);
        [$first, $second] = [$sender->batches[0][0], $sender->batches[1][0]];
        $this->assertSame("outbox-$id", $first['id']);
        $this->assertSame('partner.upsert', $first['op']);
        $this->assertSame('partner:drupal-user-1', $first['orderingKey']);
        $this->assertSame(['externalId' => 'drupal-user-1', 'revision' => 1], $first['payload']);
        $this->assertSame($first['idempotencyKey'], $second['idempotencyKey'], 'a retry is the same request');
    }

    public function testARetryableFailureBacksOffAndMarksTheLinkFailed(): void
    {
        $id = $this->enqueuePartner(1);
        $limited = ScriptedSender::error('rate_limited', true, 'slow down', 20.0);
        $sender = new ScriptedSender(static fn (): array => $limited);
        $report = $this->drainer($sender)->drain('w1');

        $this->assertSame([1, 0, 0], [$report->failed, $report->sent, $report->dead]);
        $this->assertSame(1, $report->batches, 'the row is not due again within this drain');
        $row = $this->outbox->get($id);
        $this->assertSame($this->now + 20, $row['nextAttemptAt']);
        $this->assertSame('rate_limited', $row['errorClass']);
        $link = $this->links->get('user', '1', 'partner');
        $this->assertSame('failed', $link['status']);
        $this->assertSame('rate_limited: slow down', $link['lastError']);
        $this->assertSame('warning', $this->logged[0][0]);
        $this->assertSame('slow down', $this->logged[0][2]['message']);
        $this->assertSame('will be retried', $this->logged[0][2]['outcome']);
        $this->assertArrayNotHasKey('payload', $this->logged[0][2], 'payloads (personal data) are not logged');
    }

    public function testARejectedOperationIsDeadLetteredAndBlocksOnlyItsKey(): void
    {
        $bad = $this->enqueuePartner(1, 1);
        $after = $this->outbox->enqueue(
            'partner.delete',
            ['externalId' => 'drupal-user-1'],
            'partner:drupal-user-1',
            'partner',
            'user',
            '1'
        );
        $this->enqueuePartner(2);
        $sender = new ScriptedSender(static fn (array $op): array => $op['id'] === "outbox-$bad"
            ? ScriptedSender::error('validation', false, 'partnerType: must be one of supplier, ...')
            : ScriptedSender::ok(['partnerId' => 'GC2']));
        $report = $this->drainer($sender)->drain('w1');

        $this->assertSame(1, $report->dead);
        $this->assertSame(1, $report->sent);
        $this->assertSame('dead', $this->links->get('user', '1', 'partner')['status']);
        $this->assertSame('synced', $this->links->get('user', '2', 'partner')['status']);
        $this->assertSame($bad, $this->outbox->get($after)['blockedBy']);
        $this->assertSame('error', $this->logged[0][0]);

        $this->outbox->replay($bad);
        $sender2 = new ScriptedSender(static fn (array $op): array => ScriptedSender::ok(['partnerId' => 'GC1']));
        $report = $this->drainer($sender2)->drain('w1');
        $this->assertSame(2, $report->sent);
        $this->assertSame(["outbox-$bad", "outbox-$after"], $sender2->sentIds(), 'the key keeps its order');
        $link = $this->links->get('user', '1', 'partner');
        $this->assertSame('withdrawn', $link['status'], 'the partner was deleted last');
        $this->assertSame('GC1', $link['remoteId']);
    }

    public function testTheAttemptLimitEndsInADeadLetter(): void
    {
        $id = $this->enqueuePartner(1);
        $sender = new ScriptedSender(static fn (): array => ScriptedSender::error('api', true, 'HTTP 503'));
        $states = [];
        for ($i = 0; $i < 3; $i++) {
            $report = $this->drainer($sender)->drain('w1');
            $states[] = [$report->failed, $report->dead];
            $this->now += 3600;
        }
        $this->assertSame([[1, 0], [1, 0], [0, 1]], $states);
        $this->assertSame('dead', $this->outbox->get($id)['status']);
    }

    public function testARemovalOfWhatIsAlreadyGoneIsDoneButOtherNotFoundsAreNot(): void
    {
        $delete = $this->outbox->enqueue('company_user.delete', ['companyId' => 'GC1', 'userId' => 'GCUS1'], 'partner:drupal-user-7', 'network_user', 'user', '7');
        $update = $this->outbox->enqueue('company_user.update', ['companyId' => 'GC1', 'userId' => 'GCUS2', 'changes' => ['firstName' => 'A']], 'partner:drupal-user-8', 'network_user', 'user', '8');
        $sender = new ScriptedSender(static fn (): array => ScriptedSender::error('not_found', false, 'user GCUS1 not found'));
        $report = $this->drainer($sender)->drain('w1');

        $this->assertSame(1, $report->sent);
        $this->assertSame(1, $report->dead);
        $this->assertNull($this->outbox->get($delete), 'the delete is complete');
        $this->assertSame('withdrawn', $this->links->get('user', '7', 'network_user')['status']);
        $this->assertSame('dead', $this->outbox->get($update)['status'], 'an update of a missing user is a dead letter');
    }

    public function testBlockedResultsAreReleasedWithoutAnAttempt(): void
    {
        $id = $this->enqueuePartner(1);
        $blocked = ScriptedSender::error('blocked', true, 'earlier op failed');
        $sender = new ScriptedSender(static fn (): array => $blocked);
        $report = $this->drainer($sender)->drain('w1', 5.0);

        $this->assertSame(1, $report->released);
        $this->assertSame('stalled', $report->stoppedBy, 'no spinning on rows that come back unsent');
        $row = $this->outbox->get($id);
        $this->assertSame(0, $row['attempts']);
        $this->assertSame('pending', $row['status']);
    }

    public function testAMissingResultReleasesTheRow(): void
    {
        $id = $this->enqueuePartner(1);
        $sender = new class implements \Drupal\trading_grid\Delivery\SenderInterface {
            public function sendBatch(array $ops): array
            {
                return [];
            }
        };
        $report = (new Drainer($this->outbox, $sender))->drain('w1');
        $this->assertSame(1, $report->released);
        $this->assertSame('pending', $this->outbox->get($id)['status']);
    }

    public function testResultsAreMatchedByIdWhenKeyedDifferently(): void
    {
        $a = $this->enqueuePartner(1);
        $b = $this->enqueuePartner(2);
        $sender = new class ($b) implements \Drupal\trading_grid\Delivery\SenderInterface {
            public function __construct(private int $failing)
            {
            }

            public function sendBatch(array $ops): array
            {
                $results = [];
                foreach (array_reverse($ops) as $op) {
                    $results[] = $op['id'] === "outbox-$this->failing"
                        ? ['id' => $op['id']] + ScriptedSender::error('validation', false)
                        : ['id' => $op['id']] + ScriptedSender::ok();
                }
                return $results;
            }
        };
        $report = (new Drainer($this->outbox, $sender))->drain('w1');
        $this->assertSame([1, 1], [$report->sent, $report->dead]);
        $this->assertNull($this->outbox->get($a));
        $this->assertSame('dead', $this->outbox->get($b)['status']);
    }

    public function testAFailedBatchCountsAnAttemptOnEveryRowAndStops(): void
    {
        $this->enqueuePartner(1);
        $this->enqueuePartner(2);
        $sender = new ScriptedSender(static function (): array {
            throw new \RuntimeException('tenant: must not be empty');
        });
        $report = $this->drainer($sender)->drain('w1');

        $this->assertSame(2, $report->failed);
        $this->assertSame('error', $report->stoppedBy);
        $this->assertSame(['pending' => 2, 'leased' => 0, 'dead' => 0], $this->outbox->counts());
        $this->assertSame(['transport'], array_unique(array_column($this->outbox->list(), 'errorClass')));
        $this->assertSame('tenant: must not be empty', $this->outbox->list()[0]['lastError']);
        $this->assertSame('error', $this->logged[0][0]);
        $this->assertInstanceOf(\RuntimeException::class, $this->logged[0][2]['exception']);
    }

    public function testAResultForARowTakenOverMeanwhileIsStale(): void
    {
        $id = $this->enqueuePartner(1);
        $sender = new ScriptedSender(function (array $op): array {
            // The batch outlives its lease and another worker takes the row over.
            $this->now += 120;
            $this->assertCount(1, $this->outbox->claim('other', 10));
            return ScriptedSender::ok();
        });
        $report = $this->drainer($sender)->drain('w1');
        $this->assertSame([0, 1], [$report->sent, $report->stale]);
        $this->assertSame('leased', $this->outbox->get($id)['status'], 'the other worker owns the row now');
        $this->assertNull($this->links->get('user', '1'));
    }

    public function testTheTimeBudgetEndsTheDrainBetweenBatches(): void
    {
        foreach (range(1, 6) as $i) {
            $this->enqueuePartner($i);
        }
        $sender = new ScriptedSender(static function (): array {
            usleep(30000);
            return ScriptedSender::ok();
        });
        $report = $this->drainer($sender)->drain('w1', 0.05, 1);
        $this->assertSame('budget', $report->stoppedBy);
        $this->assertLessThan(6, $report->batches, 'it stopped before the outbox was empty');
        $this->assertSame($report->batches, $report->sent);
        $this->assertGreaterThanOrEqual(0.05, $report->seconds);
        $this->assertSame(6 - $report->sent, $this->outbox->count());
    }

    public function testRowsWithoutAnEntityAreSentWithoutALink(): void
    {
        $this->outbox->enqueue(
            'metrics.portal',
            ['period' => '2026-11-24', 'figures' => ['contentViews' => 3]],
            'metrics',
            'metrics'
        );
        $report = $this->drainer(new ScriptedSender(static fn (): array => ScriptedSender::ok()))->drain('w1');
        $this->assertSame(1, $report->sent);
        $this->assertSame(0, $this->links->count());
    }

    public function testAPsrStyleLoggerObjectIsAccepted(): void
    {
        $logger = new class {
            public array $lines = [];

            public function log($level, $message, array $context = []): void
            {
                $this->lines[] = "$level $message";
            }
        };
        $this->enqueuePartner(1);
        $sender = new ScriptedSender(static fn (): array => ScriptedSender::error('auth', false, 'invalid_client'));
        (new Drainer($this->outbox, $sender, null, $logger))->drain('w1');
        $this->assertCount(1, $logger->lines);
        $this->assertStringStartsWith('error Trading Grid {op}', $logger->lines[0]);
        $this->assertSame(['sent' => 0, 'failed' => 0, 'dead' => 0, 'released' => 0, 'stale' => 0, 'batches' => 0,
            'seconds' => 0.0, 'stoppedBy' => 'empty'], (new \Drupal\trading_grid\Delivery\DrainReport())->toArray());
    }
}
