<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Form;

use Drupal\Core\Form\FormBase;
use Drupal\Core\Form\FormStateInterface;
use Drupal\trading_grid\Sync\Mapping;
use Symfony\Component\HttpFoundation\Request;

/**
 * Filters of the sync log: flow, entity, state, operation (kept in the URL).
 */
final class SyncLogFilterForm extends FormBase {

  private const KEYS = ['flow', 'entity_type', 'entity_id', 'state', 'op'];

  /**
   * The filter in a request's query, cleaned.
   *
   * @return array<string, string>
   *   flow, entity_type, entity_id, state, op.
   */
  public static function filterFrom(Request $request): array {
    $filter = [];
    foreach (self::KEYS as $key) {
      $value = $request->query->get($key, '');
      $filter[$key] = is_scalar($value) ? mb_substr(trim((string) $value), 0, 128) : '';
    }
    if (!in_array($filter['state'], ['', 'pending', 'leased', 'dead'], TRUE)) {
      $filter['state'] = '';
    }
    return $filter;
  }

  /**
   * {@inheritdoc}
   */
  public function getFormId(): string {
    return 'trading_grid_sync_log_filter';
  }

  /**
   * {@inheritdoc}
   */
  public function buildForm(array $form, FormStateInterface $form_state, array $filter = []): array {
    $form['filters'] = [
      '#type' => 'details',
      '#title' => $this->t('Filter'),
      '#open' => array_filter($filter) !== [],
      '#attributes' => ['class' => ['container-inline']],
    ];
    $flows = array_unique(array_merge(array_values(Mapping::OPERATIONS), ['access_request', 'issue_comment', 'onboarding', 'reporting', 'notification']));
    $form['filters']['flow'] = [
      '#type' => 'select',
      '#title' => $this->t('Flow'),
      '#options' => ['' => $this->t('- Any -')] + array_combine($flows, $flows),
      '#default_value' => $filter['flow'] ?? '',
    ];
    $form['filters']['state'] = [
      '#type' => 'select',
      '#title' => $this->t('State'),
      '#options' => ['' => $this->t('- Any -'), 'pending' => $this->t('Waiting'), 'leased' => $this->t('Being sent'), 'dead' => $this->t('Dead letter')],
      '#default_value' => $filter['state'] ?? '',
    ];
    $form['filters']['entity_type'] = [
      '#type' => 'select',
      '#title' => $this->t('Entity type'),
      '#options' => ['' => $this->t('- Any -'), 'user' => $this->t('User'), 'node' => $this->t('Content')],
      '#default_value' => $filter['entity_type'] ?? '',
    ];
    $form['filters']['entity_id'] = [
      '#type' => 'textfield',
      '#title' => $this->t('Entity id'),
      '#size' => 8,
      '#default_value' => $filter['entity_id'] ?? '',
    ];
    $form['filters']['op'] = [
      '#type' => 'textfield',
      '#title' => $this->t('Operation'),
      '#size' => 16,
      '#default_value' => $filter['op'] ?? '',
    ];
    $form['filters']['submit'] = ['#type' => 'submit', '#value' => $this->t('Filter')];
    return $form;
  }

  /**
   * {@inheritdoc}
   */
  public function submitForm(array &$form, FormStateInterface $form_state): void {
    $query = [];
    foreach (self::KEYS as $key) {
      $value = trim((string) $form_state->getValue($key, ''));
      if ($value !== '') {
        $query[$key] = $value;
      }
    }
    $form_state->setRedirect('trading_grid.sync_log', [], ['query' => $query]);
  }

}
