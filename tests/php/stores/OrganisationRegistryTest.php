<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Store\OrganisationRegistry;

final class OrganisationRegistryTest extends StoreTestCase
{
    private function registry(): OrganisationRegistry
    {
        return new OrganisationRegistry($this->pdo, self::PREFIX);
    }

    public function testANameGetsOneIdForGood(): void
    {
        $registry = $this->registry();
        $this->assertNull($registry->find('Alpha Logistics'));
        $alpha = $registry->idFor('Alpha Logistics');
        $this->assertGreaterThan(0, $alpha);
        $this->assertSame($alpha, $registry->idFor('Alpha Logistics'));
        $this->assertSame($alpha, $registry->find('Alpha Logistics'));
        $elsewhere = new OrganisationRegistry(TestDatabase::connect(), self::PREFIX);
        $this->assertSame($alpha, $elsewhere->find('Alpha Logistics'));

        $beta = $registry->idFor('Beta Freight');
        $this->assertNotSame($alpha, $beta);
        $this->assertSame(2, $this->rowCount('trading_grid_organisation'));
    }

    public function testNamesAreComparedExactly(): void
    {
        $registry = $this->registry();
        $ids = [];
        $names = ['Alpha Logistics', 'alpha logistics', 'Alpha  Logistics', 'Ålpha Logistics', 'type:carrier',
            'community:logistics-eu'];
        foreach ($names as $name) {
            $ids[$name] = $registry->idFor($name);
        }
        $this->assertCount(6, array_unique($ids), 'case, spaces and accents make another name');
        foreach ($ids as $name => $id) {
            $this->assertSame($id, $registry->find($name), $name);
        }
        $this->assertNull($registry->find('ALPHA LOGISTICS'));
    }

    public function testTheLongestNameFitsAndALongerOneIsRefused(): void
    {
        $registry = $this->registry();
        $longest = str_repeat('é', OrganisationRegistry::MAX_LENGTH);
        $this->assertSame($registry->idFor($longest), $registry->find($longest));
        $this->assertNull($registry->find($longest . 'x'));
        $this->expectException(\InvalidArgumentException::class);
        $registry->idFor($longest . 'x');
    }

    public function testAnEmptyNameHasNoId(): void
    {
        $this->assertNull($this->registry()->find(''));
        $this->expectException(\InvalidArgumentException::class);
        $this->registry()->idFor('');
    }

    public function testANameWithWhiteSpaceAroundItIsRefused(): void
    {
        // Callers trim names; MySQL would otherwise take "Alpha " for "Alpha".
        $registry = $this->registry();
        $registry->idFor('Alpha Logistics');
        $this->assertNull($registry->find('Alpha Logistics '));
        foreach ([' Alpha Logistics', 'Alpha Logistics ', "Alpha Logistics\n"] as $name) {
            try {
                $registry->idFor($name);
                $this->fail('accepted ' . json_encode($name));
            } catch (\InvalidArgumentException) {
                $this->addToAssertionCount(1);
            }
        }
        $this->assertSame(1, $this->rowCount('trading_grid_organisation'));
    }

    public function testIdsAreNotReusedAfterARolledBackTransaction(): void
    {
        $registry = $this->registry();
        $first = $registry->idFor('Alpha Logistics');
        $this->pdo->beginTransaction();
        $registry->idFor('Gamma Parts');
        $this->assertSame($first, $registry->idFor('Alpha Logistics'), 'a known name inside a transaction');
        $this->pdo->rollBack();
        $this->assertNull($registry->find('Gamma Parts'), 'gone with the transaction that gave it');
        $again = $registry->idFor('Gamma Parts');
        $this->assertGreaterThan($first, $again);
        $this->assertSame(2, $this->rowCount('trading_grid_organisation'));
    }

    public function testAKnownNameInsideTheCallersTransactionDoesNotSpoilIt(): void
    {
        $registry = $this->registry();
        $alpha = $registry->idFor('Alpha Logistics');
        $this->pdo->beginTransaction();
        $this->assertSame($alpha, $registry->idFor('Alpha Logistics'));
        $beta = $registry->idFor('Beta Freight');
        $this->pdo->commit();
        $this->assertSame($beta, $registry->find('Beta Freight'));
    }

    public function testANameGivenAnIdElsewhereDuringOurTransactionIsFound(): void
    {
        if ($this->pdo->getAttribute(\PDO::ATTR_DRIVER_NAME) === 'sqlite') {
            $this->markTestSkipped('SQLite has one writer: a transaction that read before another wrote cannot write.');
        }
        $registry = $this->registry();
        $other = new OrganisationRegistry(TestDatabase::connect(), self::PREFIX);
        $this->pdo->beginTransaction();
        // Under MySQL's REPEATABLE READ this first read fixes what plain reads see.
        $this->assertNull($registry->find('Delta Cargo'));
        $theirs = $other->idFor('Delta Cargo');
        $this->assertSame($theirs, $registry->idFor('Delta Cargo'), 'the row committed meanwhile is found');
        $this->pdo->commit();
        $this->assertSame(1, $this->rowCount('trading_grid_organisation'));
    }

    public function testFindAllGivesTheIdsOfKnownNamesOnly(): void
    {
        $registry = $this->registry();
        $this->assertSame([], $registry->findAll([]));
        $alpha = $registry->idFor('Alpha Logistics');
        $carrier = $registry->idFor('type:carrier');
        $scoped = $registry->idFor("org:$alpha/type:carrier");
        $found = $registry->findAll(['type:carrier', 'Alpha Logistics', 'Beta Freight', '', ' Alpha Logistics',
            "org:$alpha/type:carrier", 'Alpha Logistics', str_repeat('x', OrganisationRegistry::MAX_LENGTH + 1)]);
        ksort($found);
        $this->assertSame(['Alpha Logistics' => $alpha, "org:$alpha/type:carrier" => $scoped,
            'type:carrier' => $carrier], $found);
        $this->assertSame(3, $this->rowCount('trading_grid_organisation'), 'findAll gives nothing an id');
    }

    public function testAMissingTableIsRecognised(): void
    {
        // The module's code deployed, its update not run yet: no table under this prefix.
        $registry = new OrganisationRegistry($this->pdo, 'tgnotable_');
        try {
            $registry->find('Alpha Logistics');
            $this->fail('read a table that does not exist');
        } catch (\PDOException $e) {
            $this->assertTrue(OrganisationRegistry::isMissingTable($e), $e->getMessage());
        }
        try {
            $this->pdo->query('SELECT nonsense FROM ' . $this->table('trading_grid_organisation'));
            $this->fail('selected a column that does not exist');
        } catch (\PDOException $e) {
            $this->assertFalse(OrganisationRegistry::isMissingTable($e), $e->getMessage());
        }
    }

    public function testConcurrentRequestsGiveEachNewNameOneId(): void
    {
        $this->assertEveryProcessGetsTheSameIds('plain');
    }

    public function testConcurrentTransactionsGiveEachNewNameOneId(): void
    {
        // As in a site: each id is given inside a node save's open transaction.
        $this->assertEveryProcessGetsTheSameIds('tx');
    }

    public function testANameGivenAnIdInAnOpenTransactionWaitsForIt(): void
    {
        [$ours, $theirs] = $this->raceAnOpenTransaction(true);
        $this->assertSame($ours, $theirs, 'the other process waited for our commit and took our id');
        $this->assertSame(1, $this->rowCount('trading_grid_organisation'));
    }

    public function testANameWhoseTransactionRollsBackGetsItsIdFromTheOther(): void
    {
        // SQLite may hand out the rolled back number again: it was never committed, so
        // no grant can carry it.
        [, $theirs] = $this->raceAnOpenTransaction(false);
        $this->assertSame($theirs, $this->registry()->find('Org 1'), 'the waiting process gave the name its id');
        $this->assertSame(1, $this->rowCount('trading_grid_organisation'));
    }

    /**
     * Gives "Org 1" an id inside a transaction, lets another process ask for the same
     * name while the transaction is open, then commits or rolls back.
     *
     * @return array{0:int, 1:int} our id, the other process's id
     */
    private function raceAnOpenTransaction(bool $commit): array
    {
        $registry = $this->registry();
        $this->pdo->beginTransaction();
        $ours = $registry->idFor('Org 1');
        $proc = self::spawn('organisation-ids.php', [self::PREFIX, '1', 'forward', '0'], $pipes);
        // Long enough for the child to start, connect and block on our uncommitted row.
        usleep(1_500_000);
        $status = proc_get_status($proc);
        $this->assertTrue($status['running'], 'the other process did not wait for our transaction');
        $commit ? $this->pdo->commit() : $this->pdo->rollBack();
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        $this->assertSame(0, proc_close($proc), (string) $err);
        $theirs = json_decode(trim((string) $out), true, 512, JSON_THROW_ON_ERROR)['Org 1'];
        return [$ours, $theirs];
    }

    private function assertEveryProcessGetsTheSameIds(string $mode): void
    {
        $procs = [];
        // The children start together and mostly in the same order, so they often try to
        // give the same new name an id at the same moment.
        $start = sprintf('%.3f', microtime(true) + 1.0);
        foreach (['forward', 'forward', 'backward', 'forward'] as $i => $order) {
            $proc = self::spawn('organisation-ids.php', [self::PREFIX, '120', $order, $start, $mode], $pipes);
            $procs[$i] = [$proc, $pipes];
        }
        $answers = [];
        foreach ($procs as [$proc, $pipes]) {
            $out = stream_get_contents($pipes[1]);
            $err = stream_get_contents($pipes[2]);
            $this->assertSame(0, proc_close($proc), (string) $err);
            $answers[] = json_decode(trim((string) $out), true, 512, JSON_THROW_ON_ERROR);
        }
        $this->assertCount(120, $answers[0]);
        foreach ($answers as $answer) {
            $this->assertSame($answers[0], $answer, 'every process got the same id for each name');
        }
        $this->assertCount(120, array_unique($answers[0]), 'and no two names share one');
        $this->assertSame(120, $this->rowCount('trading_grid_organisation'));
        $registry = $this->registry();
        foreach ($answers[0] as $name => $id) {
            $this->assertSame($id, $registry->find((string) $name));
        }
    }
}
