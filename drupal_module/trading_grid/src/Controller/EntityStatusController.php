<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Controller;

use Drupal\Core\Controller\ControllerBase;
use Drupal\Core\Datetime\DateFormatterInterface;
use Drupal\Core\Entity\ContentEntityInterface;
use Drupal\Core\Url;
use Drupal\node\NodeInterface;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\Outbox;
use Drupal\user\UserInterface;
use Symfony\Component\DependencyInjection\ContainerInterface;

/**
 * The "Trading Grid" tab of a node or user: its links, and what still waits.
 */
final class EntityStatusController extends ControllerBase {

  public function __construct(
    private readonly LinkStore $links,
    private readonly Outbox $outbox,
    private readonly DateFormatterInterface $dateFormatter,
  ) {}

  /**
   * {@inheritdoc}
   */
  public static function create(ContainerInterface $container): static {
    return new static(
      $container->get('trading_grid.link_store'),
      $container->get('trading_grid.outbox'),
      $container->get('date.formatter'),
    );
  }

  /**
   * The tab of a node.
   *
   * @return array<string, mixed>
   *   A render array.
   */
  public function node(NodeInterface $node): array {
    return $this->status($node);
  }

  /**
   * The tab of a user.
   *
   * @return array<string, mixed>
   *   A render array.
   */
  public function user(UserInterface $user): array {
    return $this->status($user);
  }

  /**
   * The status of one entity.
   *
   * @return array<string, mixed>
   *   A render array.
   */
  private function status(ContentEntityInterface $entity): array {
    $type = $entity->getEntityTypeId();
    $id = (string) $entity->id();
    $rows = [];
    foreach ($this->links->list(['entityType' => $type, 'entityId' => $id], 50) as $link) {
      $rows[] = [
        $link['flow'],
        $link['status'],
        (string) ($link['remoteId'] ?? ''),
        (string) ($link['lastOp'] ?? ''),
        (string) ($link['lastError'] ?? ''),
        $link['syncedAt'] ? $this->dateFormatter->format($link['syncedAt'], 'short') : $this->t('never'),
      ];
    }
    $build['links'] = [
      '#type' => 'table',
      '#caption' => $this->t('On Trading Grid'),
      '#header' => [$this->t('Flow'), $this->t('Status'), $this->t('Trading Grid id'), $this->t('Last operation'), $this->t('Last error'), $this->t('Last synced')],
      '#rows' => $rows,
      '#empty' => $this->t('This was never sent to Trading Grid.'),
    ];
    $waiting = [];
    foreach ($this->outbox->list(['entityType' => $type, 'entityId' => $id], 50) as $row) {
      $waiting[] = [
        $row['id'],
        $row['op'],
        $row['status'],
        $row['attempts'],
        (string) ($row['lastError'] ?? ''),
        ['data' => $row['status'] === 'dead' ? ['#type' => 'link', '#title' => $this->t('Replay'), '#url' => Url::fromRoute('trading_grid.sync_log.replay', ['id' => $row['id']])] : []],
      ];
    }
    $build['waiting'] = [
      '#type' => 'table',
      '#caption' => $this->t('Waiting to be sent'),
      '#header' => [$this->t('Outbox row'), $this->t('Operation'), $this->t('State'), $this->t('Attempts'), $this->t('Last error'), $this->t('Operations')],
      '#rows' => $waiting,
      '#empty' => $this->t('Nothing waits.'),
    ];
    $build['#cache']['max-age'] = 0;
    return $build;
  }

}
