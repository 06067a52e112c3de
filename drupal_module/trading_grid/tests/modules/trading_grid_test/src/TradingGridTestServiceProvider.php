<?php

declare(strict_types=1);

namespace Drupal\trading_grid_test;

use Drupal\Core\DependencyInjection\ContainerBuilder;
use Drupal\Core\DependencyInjection\ServiceProviderBase;
use Symfony\Component\DependencyInjection\Reference;

/**
 * Swaps what talks to Trading Grid for doubles that record what they were given.
 */
final class TradingGridTestServiceProvider extends ServiceProviderBase {

  /**
   * {@inheritdoc}
   */
  public function alter(ContainerBuilder $container): void {
    $container->getDefinition('trading_grid.extension_sender')
      ->setClass(RecordingSender::class)
      ->setFactory(NULL)
      ->setArguments([new Reference('state')]);
    $container->getDefinition('trading_grid.network')
      ->setClass(ScriptedNetwork::class)
      ->setArguments([new Reference('state')]);
  }

}
