<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Chart;

/**
 * Small server-side SVG charts for the reporting dashboard: no script, no
 * third-party code, readable by screen readers (a title and a description), and
 * every label escaped.
 */
final class SvgChart {

  private const WIDTH = 640;

  private const HEIGHT = 220;

  private const PAD_LEFT = 44;

  private const PAD_BOTTOM = 40;

  private const PAD_TOP = 16;

  private const PAD_RIGHT = 12;

  /**
   * Colours of the series, in order.
   */
  private const COLOURS = ['#1f6fb2', '#d9822b', '#2e8b57', '#8e44ad', '#c0392b'];

  /**
   * A bar chart of labelled values.
   *
   * @param string $title
   *   The chart's accessible title.
   * @param array<string, float|int> $values
   *   Label => value.
   */
  public function bars(string $title, array $values): string {
    $labels = array_keys($values);
    $max = max([1, ...array_map('floatval', array_values($values))]);
    [$w, $h] = $this->plotSize();
    $n = max(1, count($values));
    $slot = $w / $n;
    $bar = max(2.0, $slot * 0.6);
    $body = $this->axes($max);
    foreach (array_values($values) as $i => $value) {
      $height = $h * ((float) $value / $max);
      $x = self::PAD_LEFT + $i * $slot + ($slot - $bar) / 2;
      $y = self::PAD_TOP + $h - $height;
      $label = self::escape((string) $labels[$i]);
      $body .= sprintf('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s</title></rect>',
        $x, $y, $bar, $height, self::COLOURS[0], $label, self::number((float) $value));
      $body .= sprintf('<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>',
        $x + $bar / 2, self::HEIGHT - self::PAD_BOTTOM + 14, self::escape(self::short((string) $labels[$i])));
    }
    return $this->svg($title, $body, $this->describe($values));
  }

  /**
   * A line chart of series over shared periods.
   *
   * @param string $title
   *   The chart's accessible title.
   * @param list<string> $periods
   *   The x axis, in order.
   * @param array<string, array<string, float|int>> $series
   *   Series name => [period => value].
   */
  public function lines(string $title, array $periods, array $series): string {
    $max = 1.0;
    foreach ($series as $points) {
      foreach ($points as $value) {
        $max = max($max, (float) $value);
      }
    }
    [$w, $h] = $this->plotSize();
    $n = max(1, count($periods) - 1);
    $body = $this->axes($max);
    $i = 0;
    $legend = '';
    foreach ($series as $name => $points) {
      $colour = self::COLOURS[$i % count(self::COLOURS)];
      $coords = [];
      foreach (array_values($periods) as $p => $period) {
        $x = self::PAD_LEFT + $w * ($p / $n);
        $y = self::PAD_TOP + $h - $h * ((float) ($points[$period] ?? 0) / $max);
        $coords[] = sprintf('%.1f,%.1f', $x, $y);
      }
      $body .= sprintf('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"><title>%s</title></polyline>',
        $colour, implode(' ', $coords), self::escape((string) $name));
      $legend .= sprintf('<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" font-size="11">%s</text>',
        self::PAD_LEFT + 150 * $i, self::HEIGHT - 14, $colour, self::PAD_LEFT + 150 * $i + 14, self::HEIGHT - 5, self::escape(self::short((string) $name, 22)));
      $i++;
    }
    if ($periods !== []) {
      $body .= sprintf('<text x="%d" y="%d" font-size="10">%s</text>', self::PAD_LEFT, self::HEIGHT - self::PAD_BOTTOM + 14, self::escape((string) reset($periods)));
      $body .= sprintf('<text x="%d" y="%d" font-size="10" text-anchor="end">%s</text>', self::WIDTH - self::PAD_RIGHT, self::HEIGHT - self::PAD_BOTTOM + 14, self::escape((string) end($periods)));
    }
    $description = [];
    foreach ($series as $name => $points) {
      $description[(string) $name] = array_sum(array_map('floatval', $points));
    }
    return $this->svg($title, $body . $legend, 'Totals: ' . $this->describe($description));
  }

  /**
   * The plot area's width and height.
   *
   * @return array{0: float, 1: float}
   *   Width, height.
   */
  private function plotSize(): array {
    return [
      (float) (self::WIDTH - self::PAD_LEFT - self::PAD_RIGHT),
      (float) (self::HEIGHT - self::PAD_TOP - self::PAD_BOTTOM),
    ];
  }

  /**
   * The axes and the top and bottom value labels.
   */
  private function axes(float $max): string {
    $bottom = self::HEIGHT - self::PAD_BOTTOM;
    return sprintf('<line x1="%1$d" y1="%2$d" x2="%1$d" y2="%3$d" stroke="#777"/>', self::PAD_LEFT, self::PAD_TOP, $bottom)
      . sprintf('<line x1="%1$d" y1="%2$d" x2="%3$d" y2="%2$d" stroke="#777"/>', self::PAD_LEFT, $bottom, self::WIDTH - self::PAD_RIGHT)
      . sprintf('<text x="%d" y="%d" font-size="10" text-anchor="end">%s</text>', self::PAD_LEFT - 4, self::PAD_TOP + 8, self::number($max))
      . sprintf('<text x="%d" y="%d" font-size="10" text-anchor="end">0</text>', self::PAD_LEFT - 4, $bottom);
  }

  /**
   * The whole SVG document.
   */
  private function svg(string $title, string $body, string $description): string {
    $id = 'tg-chart-' . substr(hash('sha256', $title . $description), 0, 8);
    return sprintf(
      '<svg xmlns="http://www.w3.org/2000/svg" class="trading-grid-chart" role="img" viewBox="0 0 %d %d" width="100%%" aria-labelledby="%s-title %s-desc"><title id="%s-title">%s</title><desc id="%s-desc">%s</desc>%s</svg>',
      self::WIDTH, self::HEIGHT, $id, $id, $id, self::escape($title), $id, self::escape($description), $body,
    );
  }

  /**
   * "label: value" pairs for the description.
   *
   * @param array<string, float|int> $values
   *   Values.
   */
  private function describe(array $values): string {
    if ($values === []) {
      return 'No data.';
    }
    $parts = [];
    foreach ($values as $label => $value) {
      $parts[] = $label . ': ' . self::number((float) $value);
    }
    return implode(', ', $parts) . '.';
  }

  /**
   * A number without needless decimals.
   */
  private static function number(float $value): string {
    return floor($value) === $value ? (string) (int) $value : number_format($value, 1, '.', '');
  }

  /**
   * A label cut to fit under a bar.
   */
  private static function short(string $label, int $max = 14): string {
    return mb_strlen($label) > $max ? mb_substr($label, 0, $max - 1) . '…' : $label;
  }

  /**
   * Text escaped for XML.
   */
  private static function escape(string $text): string {
    return htmlspecialchars($text, ENT_QUOTES | ENT_XML1 | ENT_SUBSTITUTE, 'UTF-8');
  }

}
