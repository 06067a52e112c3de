<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Form;

use Drupal\Core\Form\ConfirmFormBase;
use Drupal\Core\Form\FormStateInterface;
use Drupal\Core\StringTranslation\TranslatableMarkup;
use Drupal\Core\Url;
use Drupal\trading_grid\Store\Outbox;
use Symfony\Component\DependencyInjection\ContainerInterface;

/**
 * Replays every dead letter (optionally of one flow or entity).
 */
final class BulkReplayForm extends ConfirmFormBase {

  // Protected, not private readonly: a cached form gets its services back through
  // DependencySerializationTrait, which only sees and writes such properties.
  public function __construct(protected Outbox $outbox) {}

  /**
   * {@inheritdoc}
   */
  public static function create(ContainerInterface $container): static {
    return new static($container->get('trading_grid.outbox'));
  }

  /**
   * {@inheritdoc}
   */
  public function getFormId(): string {
    return 'trading_grid_bulk_replay';
  }

  /**
   * The filter from the query string.
   *
   * @return array<string, string>
   *   Outbox filter.
   */
  private function filter(): array {
    $query = $this->getRequest()->query;
    return array_filter([
      'flow' => (string) $query->get('flow', ''),
      'entityType' => (string) $query->get('entity_type', ''),
      'entityId' => (string) $query->get('entity_id', ''),
    ], static fn (string $v): bool => $v !== '');
  }

  /**
   * {@inheritdoc}
   */
  public function buildForm(array $form, FormStateInterface $form_state): array {
    $form_state->set('filter', $this->filter());
    return parent::buildForm($form, $form_state);
  }

  /**
   * {@inheritdoc}
   */
  public function getQuestion(): TranslatableMarkup {
    return $this->t('Replay @n dead letters?', ['@n' => $this->outbox->count(['state' => Outbox::DEAD] + $this->filter())]);
  }

  /**
   * {@inheritdoc}
   */
  public function getConfirmText(): TranslatableMarkup {
    return $this->t('Replay all');
  }

  /**
   * {@inheritdoc}
   */
  public function getCancelUrl(): Url {
    return Url::fromRoute('trading_grid.sync_log');
  }

  /**
   * {@inheritdoc}
   */
  public function submitForm(array &$form, FormStateInterface $form_state): void {
    $n = $this->outbox->replayDead((array) $form_state->get('filter'));
    $this->messenger()->addStatus($this->formatPlural($n, 'One dead letter will be sent again.', '@count dead letters will be sent again.'));
    $form_state->setRedirectUrl($this->getCancelUrl());
  }

}
