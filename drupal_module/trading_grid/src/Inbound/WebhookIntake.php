<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Inbound;

use Drupal\trading_grid\Connection\WebhookRejectedException;
use Drupal\trading_grid\Connection\WebhookVerifierInterface;
use Drupal\trading_grid\Store\Inbox;

/**
 * What the webhook route does with one delivery, without Drupal: refuse what is too
 * big, not JSON, empty or not signed right; otherwise store each event once in the
 * inbox and say how many were new. Handling happens later (after the response, on
 * cron), so the network never waits on the site.
 *
 * The controller turns the request into (body, headers) and the answer into a plain
 * text response; the chaos suite drives this same class behind `php -S`.
 */
final class WebhookIntake {

  public const DEFAULT_MAX_BYTES = 1048576;

  public function __construct(
    private readonly WebhookVerifierInterface $verifier,
    private readonly Inbox $inbox,
    private readonly int $maxBytes = self::DEFAULT_MAX_BYTES,
  ) {}

  /**
   * Receives one delivery.
   *
   * @param string $body
   *   The raw request body.
   * @param array<string, string|list<string>> $headers
   *   Request headers, any case, values as strings or lists of strings.
   *
   * @return array{status: int, message: string, stored: int, events: int}
   *   The HTTP status to answer, a plain-words reason, how many events were new.
   */
  public function receive(string $body, array $headers): array {
    $header = static function (string $name) use ($headers): string {
      foreach ($headers as $key => $value) {
        if (strcasecmp((string) $key, $name) === 0) {
          return (string) (is_array($value) ? ($value[0] ?? '') : $value);
        }
      }
      return '';
    };
    $max = $this->maxBytes;
    if ((int) $header('Content-Length') > $max || strlen($body) > $max) {
      return self::answer(413, "The body is larger than $max bytes.");
    }
    if (!preg_match('#^application/([a-z0-9.+-]+\+)?json\s*(;|$)#', strtolower(trim($header('Content-Type'))))) {
      return self::answer(415, 'Send the events as application/json.');
    }
    if (trim($body) === '') {
      return self::answer(400, 'The body is empty.');
    }
    try {
      $events = $this->verifier->verify($body, $headers);
    }
    catch (WebhookRejectedException $e) {
      return self::answer($e->status(), $e->getMessage());
    }
    foreach ($events as $i => $event) {
      if (!is_array($event) || !is_scalar($event['id'] ?? NULL) || (string) $event['id'] === ''
        || !is_string($event['type'] ?? NULL) || $event['type'] === '') {
        return self::answer(400, "Event $i needs an id and a type.");
      }
    }
    $new = 0;
    foreach ($events as $event) {
      try {
        if ($this->inbox->store((string) $event['id'], $event['type'], $event, 'webhook')) {
          $new++;
        }
      }
      catch (\InvalidArgumentException $e) {
        return self::answer(400, 'An event could not be stored: ' . $e->getMessage(), $new, count($events));
      }
    }
    return self::answer(200, sprintf('Stored %d new of %d events.', $new, count($events)), $new, count($events));
  }

  /**
   * @return array{status: int, message: string, stored: int, events: int}
   */
  private static function answer(int $status, string $message, int $stored = 0, int $events = 0): array {
    return ['status' => $status, 'message' => $message, 'stored' => $stored, 'events' => $events];
  }

}
