<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Store\MetricsStore;

final class MetricsStoreTest extends StoreTestCase
{
    private function metrics(): MetricsStore
    {
        return new MetricsStore($this->pdo, self::PREFIX, $this->clock());
    }

    public function testAddAccumulatesPerNameDimensionAndPeriod(): void
    {
        $metrics = $this->metrics();
        $metrics->add('contentViews', 1, 'logistics-eu', '2026-11-24');
        $metrics->add('contentViews', 2.5, 'logistics-eu', '2026-11-24');
        $metrics->add('contentViews', 4, 'suppliers-global', '2026-11-24');
        $metrics->add('contentViews', 1, 'logistics-eu', '2026-11-25');
        $this->assertSame(3.5, $metrics->value('contentViews', 'logistics-eu', '2026-11-24'));
        $this->assertSame(
            ['logistics-eu' => 3.5, 'suppliers-global' => 4.0],
            $metrics->breakdown('contentViews', '2026-11-24')
        );
        $this->assertNull($metrics->value('contentViews', '', '2026-11-24'));
    }

    public function testSetOverwrites(): void
    {
        $metrics = $this->metrics();
        $metrics->set('outboxBacklog', 120, '', '2026-11-24');
        $metrics->set('outboxBacklog', 7, '', '2026-11-24');
        $this->assertSame(7.0, $metrics->value('outboxBacklog', '', '2026-11-24'));
    }

    public function testThePeriodDefaultsToTheClocksUtcDay(): void
    {
        $metrics = $this->metrics();
        $this->now = gmmktime(23, 59, 0, 11, 24, 2026);
        $metrics->add('acknowledgements', 1);
        $this->now += 120;
        $metrics->add('acknowledgements', 1);
        $this->assertSame(['acknowledgements' => 1.0], $metrics->totals('2026-11-24'));
        $this->assertSame(['acknowledgements' => 1.0], $metrics->totals('2026-11-25'));
        $this->assertSame(1.0, $metrics->value('acknowledgements'));
    }

    public function testSeriesAndTotals(): void
    {
        $metrics = $this->metrics();
        foreach (['2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23'] as $i => $day) {
            $metrics->add('onboardingCompleted', $i + 1, '', $day);
            $metrics->add('onboardingCompleted', 10, 'carrier', $day);
            $metrics->add('contentViews', 100, '', $day);
        }
        $series = $metrics->series('onboardingCompleted', '2026-11-21', '2026-11-22');
        $this->assertSame([
            ['period' => '2026-11-21', 'dimension' => '', 'value' => 2.0],
            ['period' => '2026-11-21', 'dimension' => 'carrier', 'value' => 10.0],
            ['period' => '2026-11-22', 'dimension' => '', 'value' => 3.0],
            ['period' => '2026-11-22', 'dimension' => 'carrier', 'value' => 10.0],
        ], $series);
        $this->assertSame(['contentViews' => 100.0, 'onboardingCompleted' => 14.0], $metrics->totals('2026-11-23'));
        $this->assertSame([], $metrics->totals('2026-12-01'));
    }

    public function testConcurrentAddsAreNotLost(): void
    {
        $a = $this->metrics();
        $b = new MetricsStore(TestDatabase::connect(), self::PREFIX, $this->clock());
        for ($i = 0; $i < 50; $i++) {
            ($i % 2 ? $a : $b)->add('webhooks', 1, '', '2026-11-24');
        }
        $this->assertSame(50.0, $a->value('webhooks', '', '2026-11-24'));
    }

    public function testANameThatIsNotAMachineNameIsRefused(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->metrics()->add('content views', 1);
    }
}
