<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Unit;

use Drupal\Tests\UnitTestCase;
use Drupal\trading_grid\Chart\SvgChart;

/**
 * The dashboard charts are well-formed SVG with escaped, accessible text.
 *
 * @group trading_grid
 * @coversDefaultClass \Drupal\trading_grid\Chart\SvgChart
 */
final class SvgChartTest extends UnitTestCase {

  /**
   * Bars: one rect per value, heights in proportion, labels escaped.
   */
  public function testBarsAreProportionalAndEscaped(): void {
    $svg = (new SvgChart())->bars('Ops <sent>', ['partner.upsert' => 4, 'a&b' => 2]);
    $xml = simplexml_load_string($svg);
    $this->assertNotFalse($xml, 'well-formed XML');
    $xml->registerXPathNamespace('s', 'http://www.w3.org/2000/svg');
    $rects = $xml->xpath('//s:rect');
    $this->assertCount(2, $rects);
    $this->assertEqualsWithDelta(2 * (float) $rects[1]['height'], (float) $rects[0]['height'], 0.2);
    $this->assertSame('Ops <sent>', (string) $xml->title);
    $this->assertStringContainsString('a&amp;b', $svg);
    $this->assertStringContainsString('role="img"', $svg);
  }

  /**
   * Lines: one polyline per series, a point per period, a legend entry each.
   */
  public function testLinesHaveOnePointPerPeriod(): void {
    $periods = ['2026-11-01', '2026-11-02', '2026-11-03'];
    $svg = (new SvgChart())->lines('Events', $periods, ['issue.created' => ['2026-11-02' => 3], 'membership.changed' => ['2026-11-01' => 1]]);
    $xml = simplexml_load_string($svg);
    $this->assertNotFalse($xml);
    $xml->registerXPathNamespace('s', 'http://www.w3.org/2000/svg');
    $lines = $xml->xpath('//s:polyline');
    $this->assertCount(2, $lines);
    $this->assertCount(3, explode(' ', (string) $lines[0]['points']));
    $this->assertStringContainsString('Totals: issue.created: 3, membership.changed: 1.', (string) $xml->desc);
  }

  /**
   * No data still draws a valid, described chart.
   */
  public function testEmptyChartSaysNoData(): void {
    $xml = simplexml_load_string((new SvgChart())->bars('Nothing', []));
    $this->assertNotFalse($xml);
    $this->assertSame('No data.', (string) $xml->desc);
  }

}
