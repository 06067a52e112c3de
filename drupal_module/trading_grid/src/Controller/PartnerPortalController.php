<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Controller;

use Drupal\Core\Controller\ControllerBase;
use Drupal\Core\Datetime\DateFormatterInterface;
use Drupal\node\NodeInterface;
use Drupal\trading_grid\Access\NodeAccess;
use Drupal\trading_grid\Flow\Notification\PartnerNotifier;
use Drupal\trading_grid\Flow\Onboarding\OnboardingJourney;
use Drupal\user\UserInterface;
use Symfony\Component\DependencyInjection\ContainerInterface;

/**
 * The partner's own pages: the onboarding journey and the documents addressed to
 * the partner's organisation.
 */
final class PartnerPortalController extends ControllerBase {

  public function __construct(
    private readonly OnboardingJourney $journey,
    private readonly NodeAccess $nodeAccess,
    private readonly PartnerNotifier $notifier,
    private readonly DateFormatterInterface $dateFormatter,
  ) {}

  /**
   * {@inheritdoc}
   */
  public static function create(ContainerInterface $container): static {
    return new static(
      $container->get('trading_grid.onboarding'),
      $container->get('trading_grid.node_access'),
      $container->get('trading_grid.notifier'),
      $container->get('date.formatter'),
    );
  }

  /**
   * My onboarding journey, with the next step.
   *
   * @return array<string, mixed>
   *   A render array.
   */
  public function onboarding(): array {
    $user = $this->entityTypeManager()->getStorage('user')->load($this->currentUser()->id());
    if (!$user instanceof UserInterface) {
      return [];
    }
    $done = $this->journey->completed($user);
    $next = $this->journey->nextStep($user);
    $progress = $this->journey->progress($user);
    $build['progress'] = [
      '#type' => 'html_tag',
      '#tag' => 'progress',
      '#value' => $progress . '%',
      '#attributes' => ['max' => 100, 'value' => $progress, 'class' => ['trading-grid-progress']],
    ];
    $build['summary'] = [
      '#type' => 'html_tag',
      '#tag' => 'p',
      '#value' => $next === NULL
        ? $this->t('Your onboarding is complete.')
        : $this->t('@progress% done. Next step: @step.', ['@progress' => $progress, '@step' => $next['label']]),
    ];
    $items = [];
    foreach ($this->journey->steps() as $step) {
      $state = in_array($step['id'], $done, TRUE) ? $this->t('done') : (($next['id'] ?? NULL) === $step['id'] ? $this->t('next') : $this->t('to do'));
      $items[] = [
        '#type' => 'inline_template',
        '#template' => '<strong>{{ label }}</strong> ({{ state }}){% if description %}: {{ description }}{% endif %}',
        '#context' => ['label' => $step['label'], 'state' => $state, 'description' => $step['description']],
      ];
    }
    $build['steps'] = ['#theme' => 'item_list', '#list_type' => 'ol', '#title' => $this->t('Your journey'), '#items' => $items];
    $notices = [];
    foreach (array_slice($this->notifier->notices($this->currentUser()), 0, 10) as $notice) {
      $notices[] = sprintf('%s: %s: %s', $this->dateFormatter->format((int) $notice['at'], 'short'), $notice['subject'], $notice['message']);
    }
    $build['notices'] = ['#theme' => 'item_list', '#title' => $this->t('Recent news from Trading Grid'), '#items' => $notices, '#empty' => $this->t('Nothing yet.')];
    $build['#attached']['library'][] = 'trading_grid/partner';
    $build['#cache'] = ['contexts' => ['user'], 'max-age' => 0];
    return $build;
  }

  /**
   * The documents addressed to my organisation.
   *
   * @return array<string, mixed>
   *   A render array.
   */
  public function documents(): array {
    $storage = $this->entityTypeManager()->getStorage('node');
    $ids = $storage->getQuery()
      ->accessCheck(TRUE)
      ->condition('type', NodeAccess::DOCUMENT)
      ->condition('status', 1)
      ->sort('changed', 'DESC')
      ->range(0, 200)
      ->execute();
    $rows = [];
    foreach ($storage->loadMultiple($ids) as $document) {
      if (!$document instanceof NodeInterface || !$this->nodeAccess->mayViewDocument($document, $this->currentUser())) {
        continue;
      }
      $rows[] = [
        ['data' => $document->toLink()->toRenderable()],
        (string) ($document->get('field_tg_version')->value ?? ''),
        $document->language()->getName(),
        (string) ($document->get('field_tg_effective_date')->value ?? ''),
      ];
    }
    return [
      'documents' => [
        '#type' => 'table',
        '#header' => [$this->t('Document'), $this->t('Version'), $this->t('Language'), $this->t('Effective')],
        '#rows' => $rows,
        '#empty' => $this->t('No document is addressed to your organisation yet.'),
      ],
      '#cache' => ['contexts' => ['user'], 'tags' => ['node_list'], 'max-age' => 0],
    ];
  }

}
