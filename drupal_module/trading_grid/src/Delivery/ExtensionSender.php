<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Delivery;

/**
 * Sends through the trading_grid PHP extension's client.
 *
 * Given a factory, the client is built on the first send, so a drainer can be wired up
 * (and a page rendered) on a host where the extension or its credentials are missing;
 * the error then surfaces where the sending happens.
 */
final class ExtensionSender implements SenderInterface
{
    private ?\TradingGrid\Client $client = null;
    private ?\Closure $factory = null;

    /** @param \TradingGrid\Client|\Closure(): \TradingGrid\Client $client */
    public function __construct(\TradingGrid\Client|\Closure $client)
    {
        if ($client instanceof \Closure) {
            $this->factory = $client;
        } else {
            $this->client = $client;
        }
    }

    public function sendBatch(array $ops): array
    {
        return $this->client()->sendBatch($ops);
    }

    public function client(): \TradingGrid\Client
    {
        if ($this->client === null) {
            $factory = $this->factory;
            $client = $factory === null ? null : $factory();
            if (!$client instanceof \TradingGrid\Client) {
                throw new \UnexpectedValueException('the client factory did not return a TradingGrid\Client');
            }
            $this->client = $client;
        }
        return $this->client;
    }
}
