<?php

// The module's webhook intake (the same class the Drupal route uses) behind `php -S`, on
// the chaos suite's database: verify, store each event once, answer at once.
declare(strict_types=1);

require __DIR__ . '/bootstrap.php';

use Drupal\trading_grid\Inbound\SecretWebhookVerifier;
use Drupal\trading_grid\Inbound\WebhookIntake;
use Drupal\trading_grid\Store\Inbox;
use TradingGrid\Tests\Stores\TestDatabase;

$headers = function_exists('getallheaders') ? getallheaders() : [];
if (isset($_SERVER['CONTENT_TYPE'])) {
    $headers['Content-Type'] = $_SERVER['CONTENT_TYPE'];
}
$intake = new WebhookIntake(
    new SecretWebhookVerifier((string) getenv('TG_CHAOS_WEBHOOK_SECRET'), 300),
    new Inbox(TestDatabase::connect(), (string) getenv('TG_CHAOS_PREFIX')),
);
$answer = $intake->receive((string) file_get_contents('php://input'), $headers);
http_response_code($answer['status']);
header('Content-Type: text/plain; charset=utf-8');
echo $answer['message'], "\n";
