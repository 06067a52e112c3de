<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Store\Outbox;
use Drupal\trading_grid\Store\OutboxRow;

final class OutboxTest extends StoreTestCase
{
    private float $random = 0.5;

    private function outbox(int $maxAttempts = 10, int $baseDelay = 2, int $maxDelay = 3600): Outbox
    {
        $random = fn (): float => $this->random;
        return new Outbox($this->pdo, self::PREFIX, $this->clock(), $maxAttempts, $baseDelay, $maxDelay, $random);
    }

    private function partner(int $user, int $revision = 1): array
    {
        return ['externalId' => "drupal-user-$user", 'companyName' => "Supplier $user", 'revision' => $revision];
    }

    /** @return list<int> */
    private static function ids(array $rows): array
    {
        return array_map(static fn (OutboxRow $r): int => $r->id, $rows);
    }

    public function testEnqueueNamesTheEmptyArgument(): void
    {
        $outbox = $this->outbox();
        $cases = [
            ['', 'k', 'f', 'op'],
            ['partner.upsert', '', 'f', 'orderingKey'],
            ['partner.upsert', 'k', '', 'flow'],
        ];
        foreach ($cases as [$op, $key, $flow, $name]) {
            try {
                $outbox->enqueue($op, [], $key, $flow);
                $this->fail("empty $name was accepted");
            } catch (\InvalidArgumentException $e) {
                $this->assertStringStartsWith("$name:", $e->getMessage());
            }
        }
        $this->assertSame(0, $outbox->count());
    }

    public function testEnqueueWritesOneRowWithItsPayload(): void
    {
        $outbox = $this->outbox();
        $payload = $this->partner(1) + ['ratio' => 1.0, 'name' => 'Zoë/Ltd'];
        $id = $outbox->enqueue('partner.upsert', $payload, 'partner:drupal-user-1', 'partner', 'user', '1');
        $row = $outbox->get($id);
        $this->assertNotNull($row);
        $this->assertSame('partner.upsert', $row['op']);
        $this->assertSame('partner:drupal-user-1', $row['orderingKey']);
        $this->assertSame(['user', '1', 'partner'], [$row['entityType'], $row['entityId'], $row['flow']]);
        $this->assertSame('Zoë/Ltd', $row['payload']['name']);
        $this->assertSame(1.0, $row['payload']['ratio']);
        $this->assertSame('pending', $row['status']);
        $this->assertSame(0, $row['attempts']);
        $this->assertSame($this->now, $row['createdAt']);
    }

    public function testSuccessiveSavesOfAnEntityCoalesceIntoItsPendingRow(): void
    {
        $outbox = $this->outbox();
        $key = 'partner:drupal-user-1';
        $first = $outbox->enqueue('partner.upsert', $this->partner(1, 1), $key, 'partner', 'user', '1');
        $this->now += 5;
        $second = $outbox->enqueue('partner.upsert', $this->partner(1, 2), $key, 'partner', 'user', '1');
        $third = $outbox->enqueue('partner.upsert', $this->partner(1, 2), $key, 'partner', 'user', '1');

        $this->assertSame($first, $second);
        $this->assertSame($first, $third, 'an identical save coalesces too');
        $this->assertSame(1, $outbox->count());
        $row = $outbox->get($first);
        $this->assertSame(2, $row['payload']['revision']);
        $this->assertSame(2, $row['coalesced']);
        $this->assertSame($this->now, $row['updatedAt']);
        $this->assertSame($this->now - 5, $row['createdAt']);
    }

    public function testCoalescingResetsTheAttemptsOfARetryingRow(): void
    {
        $outbox = $this->outbox();
        $id = $outbox->enqueue('partner.upsert', $this->partner(1, 1), 'partner:drupal-user-1', 'partner');
        [$row] = $outbox->claim('w1', 10);
        $this->assertSame('pending', $outbox->fail($row, 'transport', 'reset', true));
        $this->assertSame(1, $outbox->get($id)['attempts']);

        $again = $outbox->enqueue('partner.upsert', $this->partner(1, 2), 'partner:drupal-user-1', 'partner');
        $this->assertSame($id, $again);
        $row = $outbox->get($id);
        $this->assertSame(0, $row['attempts']);
        $this->assertNull($row['lastError']);
    }

    public function testAClaimedRowIsNotCoalescedIntoANewRowGoesAfterIt(): void
    {
        $outbox = $this->outbox();
        $first = $outbox->enqueue('partner.upsert', $this->partner(1, 1), 'partner:drupal-user-1', 'partner');
        $claimed = $outbox->claim('w1', 10);
        $this->assertSame([$first], self::ids($claimed));

        $second = $outbox->enqueue('partner.upsert', $this->partner(1, 2), 'partner:drupal-user-1', 'partner');
        $this->assertGreaterThan($first, $second);
        $this->assertSame(1, $claimed[0]->payload['revision'], 'the claimed row keeps what is being sent');
        $this->assertSame(1, $outbox->get($first)['payload']['revision']);
        $this->assertSame([], $outbox->claim('w2', 10), 'the new row waits for the claimed one');

        $this->assertTrue($outbox->complete($claimed[0]));
        $this->assertSame([$second], self::ids($outbox->claim('w2', 10)));
    }

    public function testADifferentOperationIsNotCoalescedAcrossAnother(): void
    {
        $outbox = $this->outbox();
        $a = $outbox->enqueue('partner.upsert', $this->partner(1, 1), 'partner:drupal-user-1', 'partner');
        $b = $outbox->enqueue('partner.delete', ['externalId' => 'drupal-user-1'], 'partner:drupal-user-1', 'partner');
        $c = $outbox->enqueue('partner.upsert', $this->partner(1, 3), 'partner:drupal-user-1', 'partner');
        $this->assertCount(3, array_unique([$a, $b, $c]), 'upsert, delete, upsert stay three rows in order');
        $this->assertSame(1, $outbox->get($a)['payload']['revision']);
    }

    public function testOperationsThatMeanSomethingOnTheirOwnAreNeverCoalesced(): void
    {
        $outbox = $this->outbox();
        $ids = [];
        foreach (['first', 'second', 'third'] as $body) {
            $comment = ['issueId' => 'TI1', 'author' => 'Desk', 'body' => $body];
            $ids[] = $outbox->enqueue('issue.comment', $comment, 'issue:TI1', 'issue');
            $notice = ['communityId' => 'c', 'kind' => 'notice', 'title' => $body, 'body' => $body];
            $ids[] = $outbox->enqueue('notification.create', $notice, 'notification:c', 'notification');
            $step = ['externalId' => 'u1', 'stepId' => $body, 'status' => 'completed'];
            $ids[] = $outbox->enqueue('onboarding.step', $step, 'partner:u1', 'onboarding');
        }
        $this->assertCount(9, array_unique($ids), 'every comment, notification and step is its own row');
        $comments = $outbox->list(['op' => 'issue.comment'], 10);
        $bodies = array_map(static fn (array $r): string => $r['payload']['body'], $comments);
        sort($bodies);
        $this->assertSame(['first', 'second', 'third'], $bodies);
    }

    public function testADeadRowIsNotCoalescedInto(): void
    {
        $outbox = $this->outbox();
        $a = $outbox->enqueue('partner.upsert', $this->partner(1, 1), 'partner:drupal-user-1', 'partner');
        [$row] = $outbox->claim('w1', 1);
        $this->assertSame('dead', $outbox->fail($row, 'validation', 'partnerType: required', false));
        $b = $outbox->enqueue('partner.upsert', $this->partner(1, 2), 'partner:drupal-user-1', 'partner');
        $this->assertNotSame($a, $b);
        $this->assertSame('dead', $outbox->get($a)['status']);
        $this->assertSame('partnerType: required', $outbox->get($a)['lastError']);
        $this->assertSame(1, $outbox->get($b)['payload']['revision'] - 1);
    }

    public function testEnqueueJoinsTheCallersTransaction(): void
    {
        $outbox = $this->outbox();
        $this->pdo->beginTransaction();
        $outbox->enqueue('partner.upsert', $this->partner(1), 'partner:drupal-user-1', 'partner');
        $this->assertTrue($this->pdo->inTransaction(), 'enqueue neither commits nor ends the transaction');
        $this->pdo->rollBack();
        $this->assertSame(0, $outbox->count(), 'rolled back with the entity save');

        $this->pdo->beginTransaction();
        $id = $outbox->enqueue('partner.upsert', $this->partner(2), 'partner:drupal-user-2', 'partner');
        $this->assertTrue($this->pdo->inTransaction());
        $this->pdo->commit();
        $this->assertNotNull($outbox->get($id));
    }

    public function testClaimTakesOnlyTheHeadOfEachOrderingKey(): void
    {
        $outbox = $this->outbox();
        $a1 = $outbox->enqueue('partner.upsert', $this->partner(1, 1), 'partner:a', 'partner');
        $b1 = $outbox->enqueue('partner.upsert', $this->partner(2, 1), 'partner:b', 'partner');
        $a2 = $outbox->enqueue('onboarding.step', ['stepId' => 'nda'], 'partner:a', 'onboarding');
        $c1 = $outbox->enqueue('issue.create', ['title' => 'x'], 'issue:c', 'issue');

        $first = $outbox->claim('w1', 10);
        $this->assertSame([$a1, $b1, $c1], self::ids($first));
        $this->assertSame([], $outbox->claim('w2', 10), 'a2 waits behind a1, which is leased');

        $outbox->complete($first[0]);
        $this->assertSame([$a2], self::ids($outbox->claim('w2', 10)));
    }

    public function testClaimRespectsTheLimitAndTheOrderOfRows(): void
    {
        $outbox = $this->outbox();
        $ids = [];
        foreach (range(1, 5) as $i) {
            $ids[] = $outbox->enqueue('partner.upsert', $this->partner($i), "partner:$i", 'partner');
        }
        $this->assertSame(array_slice($ids, 0, 2), self::ids($outbox->claim('w1', 2)));
        $this->assertSame(array_slice($ids, 2, 2), self::ids($outbox->claim('w2', 2)));
        $this->assertSame(array_slice($ids, 4), self::ids($outbox->claim('w3', 2)));
        $this->assertSame([], $outbox->claim('w4', 2));
        $this->assertSame(['pending' => 0, 'leased' => 5, 'dead' => 0], $outbox->counts());
    }

    public function testClaimedRowCarriesItsLease(): void
    {
        $outbox = $this->outbox();
        $id = $outbox->enqueue('partner.upsert', $this->partner(1), 'partner:1', 'partner', 'user', '1');
        [$row] = $outbox->claim('web-1:4242', 5, 30);
        $this->assertSame($id, $row->id);
        $this->assertSame('web-1:4242', $row->worker);
        $this->assertSame($this->now + 30, $row->leasedUntil);
        $this->assertSame(32, strlen($row->leaseToken));
        $this->assertSame($this->partner(1), $row->payload);
        $listed = $outbox->get($id);
        $this->assertSame('leased', $listed['status']);
        $this->assertSame('web-1:4242', $listed['worker']);
    }

    public function testAnExpiredLeaseIsClaimedAgain(): void
    {
        $outbox = $this->outbox();
        $id = $outbox->enqueue('partner.upsert', $this->partner(1), 'partner:1', 'partner');
        [$crashed] = $outbox->claim('w1', 10, 60);
        $this->now += 59;
        $this->assertSame([], $outbox->claim('w2', 10, 60));
        $this->now += 1;
        [$again] = $outbox->claim('w2', 10, 60);
        $this->assertSame($id, $again->id);
        $this->assertNotSame($crashed->leaseToken, $again->leaseToken);
        $this->assertSame(
            $crashed->idempotencyKey(),
            $again->idempotencyKey(),
            'a re-send after a crash carries the same idempotency key',
        );
    }

    public function testALateWorkerWithAStaleLeaseCannotSettleTheRow(): void
    {
        $outbox = $this->outbox();
        $id = $outbox->enqueue('partner.upsert', $this->partner(1), 'partner:1', 'partner');
        [$late] = $outbox->claim('slow', 10, 10);
        $this->now += 11;
        [$current] = $outbox->claim('fast', 10, 10);

        $this->assertFalse($outbox->complete($late));
        $this->assertSame(Outbox::STALE, $outbox->fail($late, 'transport', 'timeout', true));
        $this->assertFalse($outbox->release($late));
        $this->assertSame(0, $outbox->get($id)['attempts']);
        $this->assertSame('leased', $outbox->get($id)['status']);

        $this->assertTrue($outbox->complete($current));
        $this->assertNull($outbox->get($id));
    }

    public function testCompletingAfterTheLeaseRanOutButBeforeAnyReclaimStillCounts(): void
    {
        $outbox = $this->outbox();
        $id = $outbox->enqueue('partner.upsert', $this->partner(1), 'partner:1', 'partner');
        [$row] = $outbox->claim('w1', 10, 10);
        $this->now += 100;
        $this->assertTrue($outbox->complete($row));
        $this->assertNull($outbox->get($id));
    }

    public function testFailureBacksOffExponentiallyWithFullJitterUpToTheCap(): void
    {
        $outbox = $this->outbox(maxAttempts: 20, baseDelay: 2, maxDelay: 100);
        $id = $outbox->enqueue('partner.upsert', $this->partner(1), 'partner:1', 'partner');
        $this->random = 0.999999;
        $expected = [2, 4, 8, 16, 32, 64, 100, 100];
        foreach ($expected as $attempt => $ceiling) {
            [$row] = $outbox->claim('w', 1);
            $this->assertSame($attempt, $row->attempts);
            $this->assertSame('pending', $outbox->fail($row, 'api', 'HTTP 503', true));
            $listed = $outbox->get($id);
            $this->assertSame($this->now + $ceiling, $listed['nextAttemptAt'], "attempt " . ($attempt + 1));
            $this->assertSame([], $outbox->claim('w', 1), 'not due before the backoff ends');
            $this->now = $listed['nextAttemptAt'];
        }
        $this->random = 0.25;
        $this->assertSame(25, $outbox->backoff(12));
        $this->assertSame(2, $outbox->backoff(3));
        $this->random = 0.0;
        $this->assertSame(0, $outbox->backoff(1), 'full jitter starts at zero');
        $row = $outbox->get($id);
        $this->assertSame('api', $row['errorClass']);
        $this->assertSame('HTTP 503', $row['lastError']);
        $this->assertSame(8, $row['attempts']);
    }

    public function testRetryAfterIsTheFloorOfTheBackoff(): void
    {
        $outbox = $this->outbox(baseDelay: 2, maxDelay: 10);
        $id = $outbox->enqueue('partner.upsert', $this->partner(1), 'partner:1', 'partner');
        $this->random = 0.0;
        [$row] = $outbox->claim('w', 1);
        $this->assertSame('pending', $outbox->fail($row, 'rate_limited', 'slow down', true, 30.2));
        $this->assertSame($this->now + 31, $outbox->get($id)['nextAttemptAt'], 'Retry-After wins, even past the cap');

        $this->now += 31;
        $this->random = 0.999999;
        [$row] = $outbox->claim('w', 1);
        $this->assertSame('pending', $outbox->fail($row, 'rate_limited', 'slow down', true, 1.0));
        $this->assertSame($this->now + 4, $outbox->get($id)['nextAttemptAt'], 'a longer backoff is kept');
    }

    public function testTheAttemptLimitMakesADeadLetter(): void
    {
        $outbox = $this->outbox(maxAttempts: 3, baseDelay: 0);
        $id = $outbox->enqueue('partner.upsert', $this->partner(1), 'partner:1', 'partner');
        $states = [];
        for ($i = 0; $i < 3; $i++) {
            [$row] = $outbox->claim('w', 1);
            $states[] = $outbox->fail($row, 'transport', "reset $i", true);
        }
        $this->assertSame(['pending', 'pending', 'dead'], $states);
        $dead = $outbox->get($id);
        $this->assertSame('dead', $dead['status']);
        $this->assertSame(3, $dead['attempts']);
        $this->assertSame('transport', $dead['errorClass']);
        $this->assertSame('reset 2', $dead['lastError']);
        $this->assertSame($this->now, $dead['failedAt']);
        $this->assertSame([], $outbox->claim('w', 1));
    }

    public function testANonRetryableErrorIsDeadAtOnce(): void
    {
        $outbox = $this->outbox();
        $id = $outbox->enqueue('partner.upsert', $this->partner(1), 'partner:1', 'partner');
        [$row] = $outbox->claim('w', 1);
        $this->assertSame('dead', $outbox->fail($row, 'validation', 'partnerType: must be one of ...', false));
        $this->assertSame(['pending' => 0, 'leased' => 0, 'dead' => 1], $outbox->counts());
        $this->assertSame(1, $outbox->get($id)['attempts']);
    }

    public function testADeadLetterBlocksItsKeyUntilReplayed(): void
    {
        $outbox = $this->outbox();
        $a = $outbox->enqueue('partner.upsert', $this->partner(1, 1), 'partner:1', 'partner');
        $b = $outbox->enqueue('partner.delete', ['externalId' => 'drupal-user-1'], 'partner:1', 'partner');
        $other = $outbox->enqueue('partner.upsert', $this->partner(2), 'partner:2', 'partner');
        $rows = $outbox->claim('w', 10);
        $this->assertSame([$a, $other], self::ids($rows));
        $outbox->fail($rows[0], 'validation', 'bad', false);
        $outbox->complete($rows[1]);

        $this->assertSame([], $outbox->claim('w', 10), 'the delete may not overtake the rejected upsert');
        $blocked = $outbox->get($b);
        $this->assertSame($a, $blocked['blockedBy']);
        $this->assertSame('pending', $blocked['status']);
        $this->assertNull($outbox->get($a)['blockedBy']);

        $this->assertTrue($outbox->replay($a));
        $this->assertFalse($outbox->replay($a), 'only dead letters are replayed');
        $replayed = $outbox->claim('w', 10);
        $this->assertSame([$a], self::ids($replayed));
        $this->assertSame(0, $replayed[0]->attempts);
        $outbox->complete($replayed[0]);
        $this->assertSame([$b], self::ids($outbox->claim('w', 10)));
    }

    public function testDiscardingADeadLetterUnblocksItsKey(): void
    {
        $outbox = $this->outbox();
        $a = $outbox->enqueue('partner.upsert', $this->partner(1, 1), 'partner:1', 'partner');
        $b = $outbox->enqueue('partner.delete', ['externalId' => 'drupal-user-1'], 'partner:1', 'partner');
        [$row] = $outbox->claim('w', 10);
        $this->assertFalse($outbox->discard($a), 'a row under a live lease is not discarded');
        $outbox->fail($row, 'validation', 'bad', false);
        $this->assertTrue($outbox->discard($a));
        $this->assertNull($outbox->get($a));
        $this->assertSame([$b], self::ids($outbox->claim('w', 10)));
    }

    public function testBulkReplayOfDeadLettersByFilter(): void
    {
        $outbox = $this->outbox();
        foreach (range(1, 6) as $i) {
            [$op, $flow, $type] = $i % 2 ? ['partner.upsert', 'partner', 'user'] : ['issue.create', 'issue', 'node'];
            $outbox->enqueue($op, ['n' => $i], "key:$i", $flow, $type, (string) $i);
        }
        foreach ($outbox->claim('w', 10) as $row) {
            $outbox->fail($row, $row->flow === 'partner' ? 'auth' : 'validation', 'no', false);
        }
        $this->assertSame(6, $outbox->count(['state' => 'dead']));
        $this->assertSame(1, $outbox->replayDead(['flow' => 'issue', 'entityId' => '4']));
        $this->assertSame(2, $outbox->replayDead(['errorClass' => 'validation']));
        $this->assertSame(3, $outbox->replayDead());
        $this->assertSame(0, $outbox->replayDead());
        $this->assertSame(['pending' => 6, 'leased' => 0, 'dead' => 0], $outbox->counts());
    }

    public function testListFiltersCountsAndAge(): void
    {
        $outbox = $this->outbox();
        $first = $outbox->enqueue('partner.upsert', $this->partner(1), 'partner:1', 'partner', 'user', '1');
        $this->now += 10;
        $outbox->enqueue('issue.create', ['title' => 'Short'], 'issue:9', 'issue', 'node', '9');
        $outbox->enqueue('issue.comment', ['body' => 'x'], 'issue:9', 'issue', 'node', '9');
        $outbox->enqueue('document.publish', ['v' => 1], 'document:3', 'document', 'node', '3');
        [$leased] = $outbox->claim('w', 1);
        $this->assertSame($first, $leased->id);
        $this->now += 5;

        $this->assertSame(15, $outbox->oldestPendingAge());
        $this->assertSame(4, $outbox->count());
        $this->assertSame(1, $outbox->count(['state' => 'leased']));
        $this->assertSame(3, $outbox->count(['state' => 'pending']));
        $this->assertSame(2, $outbox->count(['entityType' => 'node', 'entityId' => '9']));
        $this->assertSame(1, $outbox->count(['op' => 'issue.comment']));
        $this->assertSame(2, $outbox->count(['flow' => 'issue']));

        $page = $outbox->list(['entityType' => 'node'], 2, 0);
        $this->assertSame(['issue.create', 'issue.comment'], array_column($page, 'op'));
        $next = $outbox->list(['entityType' => 'node'], 2, 2);
        $this->assertSame(['document.publish'], array_column($next, 'op'));
        $newest = $outbox->list(['sort' => 'desc'], 1);
        $this->assertSame('document.publish', $newest[0]['op']);
        $this->assertSame(['partner.upsert'], array_column($outbox->list(['state' => 'leased']), 'op'));

        $this->expectException(\InvalidArgumentException::class);
        $outbox->list(['state' => 'sent']);
    }

    public function testOldestPendingAgeIsNullWhenNothingWaits(): void
    {
        $outbox = $this->outbox();
        $this->assertNull($outbox->oldestPendingAge());
        $outbox->enqueue('partner.upsert', $this->partner(1), 'partner:1', 'partner');
        [$row] = $outbox->claim('w', 1);
        $outbox->fail($row, 'validation', 'bad', false);
        $this->assertNull($outbox->oldestPendingAge(), 'dead letters do not count as waiting');
        $this->assertSame(['pending' => 0, 'leased' => 0, 'dead' => 1], $outbox->counts());
    }

    public function testReleaseGivesARowBackWithoutCountingAnAttempt(): void
    {
        $outbox = $this->outbox();
        $id = $outbox->enqueue('partner.upsert', $this->partner(1), 'partner:1', 'partner');
        [$row] = $outbox->claim('w', 1);
        $this->assertTrue($outbox->release($row));
        [$again] = $outbox->claim('w', 1);
        $this->assertSame(0, $again->attempts);
        $this->assertTrue($outbox->release($again, 30));
        $this->assertSame([], $outbox->claim('w', 1));
        $this->now += 30;
        $this->assertSame([$id], self::ids($outbox->claim('w', 1)));
    }

    public function testTheIdempotencyKeyFollowsTheContent(): void
    {
        $outbox = $this->outbox();
        $outbox->enqueue('partner.upsert', $this->partner(1, 1), 'partner:1', 'partner');
        [$row] = $outbox->claim('w', 1);
        $op = $row->toOperation();
        $this->assertSame('outbox-' . $row->id, $op['id']);
        $this->assertSame($row->idempotencyKey(), $op['idempotencyKey']);
        $this->assertMatchesRegularExpression('/^outbox-\d+-[0-9a-f]{32}$/', $op['idempotencyKey']);
        $outbox->release($row);

        $outbox->enqueue('partner.upsert', $this->partner(1, 2), 'partner:1', 'partner');
        [$coalesced] = $outbox->claim('w', 1);
        $this->assertSame($row->id, $coalesced->id);
        $this->assertNotSame(
            $row->idempotencyKey(),
            $coalesced->idempotencyKey(),
            'a changed body must not reuse the key (the server would answer idempotency-mismatch)',
        );
    }

    public function testTwoConnectionsNeverClaimTheSameRow(): void
    {
        $outbox = $this->outbox();
        foreach (range(1, 20) as $i) {
            $outbox->enqueue('partner.upsert', $this->partner($i), "partner:$i", 'partner');
        }
        $other = new Outbox(TestDatabase::connect(), self::PREFIX, $this->clock());
        $seen = [];
        while (($rows = ($seen === [] || count($seen) % 2 ? $outbox : $other)->claim('w', 3)) !== []) {
            foreach ($rows as $row) {
                $this->assertArrayNotHasKey($row->id, $seen);
                $seen[$row->id] = true;
            }
        }
        $this->assertCount(20, $seen);
    }
}
