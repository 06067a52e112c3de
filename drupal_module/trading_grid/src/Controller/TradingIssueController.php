<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Controller;

use Drupal\Core\Controller\ControllerBase;
use Drupal\Core\Datetime\DateFormatterInterface;
use Drupal\Core\Url;
use Drupal\node\NodeInterface;
use Drupal\trading_grid\Access\NodeAccess;
use Drupal\trading_grid\Access\PartnerContext;
use Drupal\trading_grid\Flow\TradingIssue\IssueTimeline;
use Drupal\trading_grid\Form\IssueCommentForm;
use Drupal\trading_grid\Form\RaiseIssueForm;
use Symfony\Component\DependencyInjection\ContainerInterface;

/**
 * Flow 2 for partners: my organisation's trading issues, and one issue with its
 * timeline and comment form. Route access already checked the organisation.
 */
final class TradingIssueController extends ControllerBase {

  public function __construct(
    private readonly PartnerContext $partners,
    private readonly IssueTimeline $timeline,
    private readonly DateFormatterInterface $dateFormatter,
  ) {}

  /**
   * {@inheritdoc}
   */
  public static function create(ContainerInterface $container): static {
    return new static(
      $container->get('trading_grid.partner_context'),
      $container->get('trading_grid.issue_timeline'),
      $container->get('date.formatter'),
    );
  }

  /**
   * The issues of my organisation.
   *
   * @return array<string, mixed>
   *   A render array.
   */
  public function list(): array {
    $organisation = $this->partners->organisation($this->currentUser());
    // The node access grants apply too: a listing never relies on its own
    // condition alone.
    $query = $this->entityTypeManager()->getStorage('node')->getQuery()
      ->accessCheck(TRUE)
      ->condition('type', NodeAccess::ISSUE)
      ->sort('changed', 'DESC')
      ->range(0, 200);
    // Only the organisation's own issues, whatever else the account may see.
    $query->condition('field_tg_organisation', $organisation);
    $rows = [];
    foreach ($this->entityTypeManager()->getStorage('node')->loadMultiple($query->execute()) as $issue) {
      // The query's condition is case-insensitive; organisations are exact
      // names (Access\Audience), and another one's issues are never listed,
      // even before the content access rebuild.
      if (!$issue instanceof NodeInterface || $organisation === '' || trim((string) $issue->get('field_tg_organisation')->value) !== $organisation) {
        continue;
      }
      $rows[] = [
        ['data' => ['#type' => 'link', '#title' => $issue->label(), '#url' => Url::fromRoute('trading_grid.partner.issue', ['node' => $issue->id()])]],
        RaiseIssueForm::TYPES[(string) $issue->get('field_tg_issue_type')->value] ?? '',
        RaiseIssueForm::PRIORITIES[(string) $issue->get('field_tg_priority')->value] ?? '',
        str_replace('_', ' ', (string) $issue->get('field_tg_issue_status')->value),
        $this->dateFormatter->format($issue->getChangedTime(), 'short'),
      ];
    }
    $build = [];
    if ($this->currentUser()->hasPermission('raise trading issues')) {
      $build['raise'] = [
        '#type' => 'link',
        '#title' => $this->t('Raise a trading issue'),
        '#url' => Url::fromRoute('trading_grid.partner.issue_raise'),
        '#attributes' => ['class' => ['button', 'button--primary']],
      ];
    }
    $build['issues'] = [
      '#type' => 'table',
      '#header' => [$this->t('Issue'), $this->t('Type'), $this->t('Priority'), $this->t('Status'), $this->t('Updated')],
      '#rows' => $rows,
      '#empty' => $this->t('Your organisation has no trading issues.'),
    ];
    $build['#cache'] = ['contexts' => ['user'], 'tags' => ['node_list'], 'max-age' => 0];
    return $build;
  }

  /**
   * One issue, its timeline and the comment form.
   *
   * @return array<string, mixed>
   *   A render array.
   */
  public function view(NodeInterface $node): array {
    $value = static fn (string $field): string => $node->hasField($field) ? (string) $node->get($field)->value : '';
    $facts = [
      $this->t('Type: @v', ['@v' => RaiseIssueForm::TYPES[$value('field_tg_issue_type')] ?? $value('field_tg_issue_type')]),
      $this->t('Priority: @v', ['@v' => RaiseIssueForm::PRIORITIES[$value('field_tg_priority')] ?? $value('field_tg_priority')]),
      $this->t('Status: @v', ['@v' => str_replace('_', ' ', $value('field_tg_issue_status'))]),
      $this->t('Organisation: @v', ['@v' => $value('field_tg_organisation')]),
    ];
    foreach (['field_tg_po_number' => 'Purchase order', 'field_tg_invoice_number' => 'Invoice', 'field_tg_shipment_number' => 'Shipment'] as $field => $label) {
      if ($value($field) !== '') {
        $facts[] = $this->t('@label: @v', ['@label' => $label, '@v' => $value($field)]);
      }
    }
    if ($value('field_tg_remote_id') !== '') {
      $facts[] = $this->t('Trading Grid id: @v', ['@v' => $value('field_tg_remote_id')]);
    }
    if ($value('field_tg_resolution') !== '') {
      $facts[] = $this->t('Resolution: @v', ['@v' => $value('field_tg_resolution')]);
    }
    $build['facts'] = ['#theme' => 'item_list', '#items' => $facts];
    $build['description'] = ['#type' => 'html_tag', '#tag' => 'p', '#value' => nl2br(htmlspecialchars($value('field_tg_description'), ENT_QUOTES))];
    $files = [];
    foreach ($node->get('field_tg_attachments')->referencedEntities() as $file) {
      $files[] = ['#type' => 'link', '#title' => $file->getFilename(), '#url' => Url::fromUri($file->createFileUrl(FALSE))];
    }
    if ($files !== []) {
      $build['attachments'] = ['#theme' => 'item_list', '#title' => $this->t('Attachments'), '#items' => $files];
    }
    $entries = [];
    foreach ($this->timeline->entries($node) as $entry) {
      $when = $this->dateFormatter->format((int) ($entry['at'] ?? 0), 'short');
      $who = ($entry['origin'] ?? '') === 'portal' ? $this->t('Portal') : $this->t('Trading Grid');
      if (($entry['kind'] ?? '') === 'status') {
        $text = $this->t('@when, @who: status @from → @to@resolution', [
          '@when' => $when,
          '@who' => $who,
          '@from' => str_replace('_', ' ', (string) ($entry['from'] ?? '')),
          '@to' => str_replace('_', ' ', (string) ($entry['to'] ?? '')),
          '@resolution' => ($entry['resolution'] ?? '') !== '' ? ' (' . $entry['resolution'] . ')' : '',
        ]);
      }
      elseif (($entry['kind'] ?? '') === 'comment') {
        $text = $this->t('@when, @author (@who): @body@state', [
          '@when' => $when,
          '@author' => (string) ($entry['author'] ?? ''),
          '@who' => $who,
          '@body' => (string) ($entry['body'] ?? ''),
          '@state' => ($entry['state'] ?? '') === 'queued' ? ' ' . $this->t('(sending)') : '',
        ]);
      }
      else {
        $text = $this->t('@when: @body', ['@when' => $when, '@body' => (string) ($entry['body'] ?? '')]);
      }
      $entries[] = $text;
    }
    $build['timeline'] = [
      '#theme' => 'item_list',
      '#title' => $this->t('Timeline'),
      '#items' => $entries,
      '#empty' => $this->t('No activity yet.'),
      '#attributes' => ['class' => ['trading-grid-timeline']],
    ];
    $account = $this->currentUser();
    if ($account->hasPermission('raise trading issues') || $account->hasPermission('administer trading grid')) {
      $build['comment'] = $this->formBuilder()->getForm(IssueCommentForm::class, $node);
    }
    $build['#attached']['library'][] = 'trading_grid/partner';
    $build['#cache'] = ['contexts' => ['user'], 'max-age' => 0];
    return $build;
  }

  /**
   * The page title: the issue's subject.
   */
  public function title(NodeInterface $node): string {
    return (string) $node->label();
  }

}
