<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Controller;

use Drupal\Core\Controller\ControllerBase;
use Drupal\Core\Datetime\DateFormatterInterface;
use Drupal\Core\Pager\PagerManagerInterface;
use Drupal\Core\Url;
use Drupal\trading_grid\Form\SyncLogFilterForm;
use Drupal\trading_grid\Store\Inbox;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\Outbox;
use Symfony\Component\DependencyInjection\ContainerInterface;
use Symfony\Component\HttpFoundation\Request;

/**
 * The sync log: what waits in the outbox (and why), each entity's last sync, and
 * the events received. Dead letters can be replayed from here.
 */
final class SyncLogController extends ControllerBase {

  private const PER_PAGE = 50;

  public function __construct(
    private readonly Outbox $outbox,
    private readonly LinkStore $links,
    private readonly Inbox $inbox,
    private readonly DateFormatterInterface $dateFormatter,
    private readonly PagerManagerInterface $pagerManager,
  ) {}

  /**
   * {@inheritdoc}
   */
  public static function create(ContainerInterface $container): static {
    return new static(
      $container->get('trading_grid.outbox'),
      $container->get('trading_grid.link_store'),
      $container->get('trading_grid.inbox'),
      $container->get('date.formatter'),
      $container->get('pager.manager'),
    );
  }

  /**
   * The outbox and the links, filtered by flow, entity and state.
   *
   * @return array<string, mixed>
   *   A render array.
   */
  public function outbox(Request $request): array {
    $filter = SyncLogFilterForm::filterFrom($request);
    $outboxFilter = array_filter([
      'state' => $filter['state'],
      'flow' => $filter['flow'],
      'entityType' => $filter['entity_type'],
      'entityId' => $filter['entity_id'],
      'op' => $filter['op'],
    ], static fn ($v): bool => $v !== '');
    $outboxFilter['sort'] = 'desc';

    $counts = $this->outbox->counts();
    $age = $this->outbox->oldestPendingAge();
    $build['summary'] = [
      '#theme' => 'item_list',
      '#title' => $this->t('Outbox'),
      '#items' => [
        $this->t('Waiting: @n', ['@n' => $counts['pending']]),
        $this->t('Being sent: @n', ['@n' => $counts['leased']]),
        $this->t('Dead letters: @n', ['@n' => $counts['dead']]),
        $age === NULL ? $this->t('Nothing waits.') : $this->t('The oldest change has waited @age.', ['@age' => $this->dateFormatter->formatInterval($age)]),
      ],
    ];
    $build['filter'] = $this->formBuilder()->getForm(SyncLogFilterForm::class, $filter);
    if ($counts['dead'] > 0) {
      $build['replay_dead'] = [
        '#type' => 'link',
        '#title' => $this->t('Replay dead letters'),
        '#url' => Url::fromRoute('trading_grid.sync_log.replay_dead', [], ['query' => array_filter(['flow' => $filter['flow'], 'entity_type' => $filter['entity_type'], 'entity_id' => $filter['entity_id']])]),
        '#attributes' => ['class' => ['button']],
      ];
    }

    $total = $this->outbox->count(array_diff_key($outboxFilter, ['sort' => TRUE]));
    $page = $this->pagerManager->createPager($total, self::PER_PAGE, 0)->getCurrentPage();
    $rows = [];
    foreach ($this->outbox->list($outboxFilter, self::PER_PAGE, $page * self::PER_PAGE) as $row) {
      $status = $row['status'] === 'dead' ? $this->t('dead letter') : ($row['blockedBy'] ? $this->t('blocked by dead letter @id', ['@id' => $row['blockedBy']]) : $row['status']);
      $operations = [];
      if ($row['status'] === 'dead') {
        $operations = [
          '#type' => 'link',
          '#title' => $this->t('Replay'),
          '#url' => Url::fromRoute('trading_grid.sync_log.replay', ['id' => $row['id']]),
        ];
      }
      $rows[] = [
        $row['id'],
        $row['op'],
        $row['flow'],
        $this->entityCell($row['entityType'], $row['entityId']),
        ['data' => ['#markup' => (string) $status]],
        $row['attempts'],
        (string) ($row['errorClass'] ? $row['errorClass'] . ': ' . $row['lastError'] : ''),
        $this->dateFormatter->format($row['createdAt'], 'short'),
        ['data' => $operations],
      ];
    }
    $build['outbox'] = [
      '#type' => 'table',
      '#caption' => $this->t('Changes waiting to be sent (sent ones leave the outbox; their result is below)'),
      '#header' => [$this->t('Id'), $this->t('Operation'), $this->t('Flow'), $this->t('Entity'), $this->t('State'), $this->t('Attempts'), $this->t('Last error'), $this->t('Queued'), $this->t('Operations')],
      '#rows' => $rows,
      '#empty' => $this->t('Nothing waits in the outbox.'),
    ];
    $build['pager'] = ['#type' => 'pager', '#element' => 0];

    $linkFilter = array_filter([
      'flow' => $filter['flow'],
      'entityType' => $filter['entity_type'],
      'entityId' => $filter['entity_id'],
    ], static fn ($v): bool => $v !== '');
    $linkRows = [];
    foreach ($this->links->list($linkFilter, 50) as $link) {
      $linkRows[] = [
        $this->entityCell($link['entityType'], $link['entityId']),
        $link['flow'],
        $link['status'],
        (string) ($link['remoteId'] ?? ''),
        (string) ($link['lastOp'] ?? ''),
        (string) ($link['lastError'] ?? ''),
        $link['syncedAt'] ? $this->dateFormatter->format($link['syncedAt'], 'short') : '',
      ];
    }
    $build['links'] = [
      '#type' => 'table',
      '#caption' => $this->t('Last sync of each entity'),
      '#header' => [$this->t('Entity'), $this->t('Flow'), $this->t('Status'), $this->t('Trading Grid id'), $this->t('Last operation'), $this->t('Last error'), $this->t('Last synced')],
      '#rows' => $linkRows,
      '#empty' => $this->t('Nothing was synced yet.'),
    ];
    $build['#attached']['library'][] = 'trading_grid/admin';
    $build['#cache']['max-age'] = 0;
    return $build;
  }

  /**
   * The events received, newest first.
   *
   * @return array<string, mixed>
   *   A render array.
   */
  public function inbox(Request $request): array {
    $state = (string) $request->query->get('state', '');
    $type = (string) $request->query->get('type', '');
    $filter = array_filter(['state' => in_array($state, [Inbox::PENDING, Inbox::HANDLED, Inbox::DEAD], TRUE) ? $state : '', 'type' => $type], static fn ($v): bool => $v !== '');
    $counts = $this->inbox->counts();
    $build['summary'] = [
      '#theme' => 'item_list',
      '#title' => $this->t('Events received'),
      '#items' => array_map(fn ($k, $v) => $this->t('@state: @n', ['@state' => $k, '@n' => $v]), array_keys($counts), array_values($counts)),
    ];
    $total = $this->inbox->count($filter);
    $page = $this->pagerManager->createPager($total, self::PER_PAGE, 0)->getCurrentPage();
    $rows = [];
    foreach ($this->inbox->list($filter, self::PER_PAGE, $page * self::PER_PAGE) as $row) {
      $rows[] = [
        $row['eventId'],
        $row['type'],
        $row['source'],
        $row['state'],
        $row['attempts'],
        (string) ($row['lastError'] ?? ''),
        $this->dateFormatter->format($row['receivedAt'], 'short'),
      ];
    }
    $build['events'] = [
      '#type' => 'table',
      '#header' => [$this->t('Event'), $this->t('Type'), $this->t('Came by'), $this->t('State'), $this->t('Attempts'), $this->t('Last error'), $this->t('Received')],
      '#rows' => $rows,
      '#empty' => $this->t('No event was received yet.'),
    ];
    $build['pager'] = ['#type' => 'pager', '#element' => 0];
    $build['#cache']['max-age'] = 0;
    return $build;
  }

  /**
   * A table cell naming an entity, linked when it exists.
   *
   * @return array<string, mixed>|string
   *   The cell.
   */
  private function entityCell(?string $type, ?string $id): array|string {
    if ($type === NULL || $id === NULL) {
      return '';
    }
    try {
      $entity = $this->entityTypeManager()->getStorage($type)->load($id);
    }
    catch (\Throwable) {
      $entity = NULL;
    }
    if ($entity !== NULL && $entity->hasLinkTemplate('canonical')) {
      return ['data' => ['#type' => 'link', '#title' => $type . ' ' . $id . ': ' . $entity->label(), '#url' => $entity->toUrl()]];
    }
    return $type . ' ' . $id;
  }

}
