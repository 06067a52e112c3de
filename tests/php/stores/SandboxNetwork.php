<?php

declare(strict_types=1);

namespace TradingGrid\Tests\Stores;

use Drupal\trading_grid\Connection\NetworkInterface;

/**
 * The module's network reads made through the real extension client, against the
 * sandbox: what ExtensionNetwork does in Drupal, without its config-built client.
 */
final class SandboxNetwork implements NetworkInterface
{
    public function __construct(private readonly \TradingGrid\Client $client)
    {
    }

    public function events(?string $after, int $limit): array
    {
        $page = $this->client->events($after, $limit);
        return ['events' => $page['events'], 'nextCursor' => $page['nextCursor'], 'hasMore' => $page['hasMore']];
    }

    public function knowledge(string $articleId): ?array
    {
        return $this->client->getKnowledge($articleId);
    }

    public function metrics(): array
    {
        return $this->client->metrics();
    }

    public function partners(?string $after, int $limit): array
    {
        return $this->client->listPartners($after, $limit);
    }

    public function transactionExceptions(?string $since, int $count, int $offset): array
    {
        $page = $this->client->transactionExceptions($since, $count, $offset);
        return ['total' => $page['total'], 'transactions' => $page['transactions']];
    }

    public function partnerIdByTradingAddress(string $address): ?string
    {
        foreach ($this->client->partnerDirectory(['tradingAddress' => $address])['partners'] as $partner) {
            return $partner['partnerCompanyId'];
        }
        return null;
    }

    public function companyUsers(string $companyId): array
    {
        return $this->client->companyUsers($companyId)['users'];
    }

    public function ping(): array
    {
        return $this->client->ping();
    }
}
