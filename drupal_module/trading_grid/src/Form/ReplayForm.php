<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Form;

use Drupal\Core\Form\ConfirmFormBase;
use Drupal\Core\Form\FormStateInterface;
use Drupal\Core\StringTranslation\TranslatableMarkup;
use Drupal\Core\Url;
use Drupal\trading_grid\Store\Outbox;
use Symfony\Component\DependencyInjection\ContainerInterface;
use Symfony\Component\HttpKernel\Exception\NotFoundHttpException;

/**
 * Replays one dead letter: it becomes due again with a fresh attempt count.
 */
final class ReplayForm extends ConfirmFormBase {

  /**
   * The dead letter.
   *
   * @var array<string, mixed>
   */
  protected array $row = [];

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
    return 'trading_grid_replay';
  }

  /**
   * {@inheritdoc}
   */
  public function buildForm(array $form, FormStateInterface $form_state, ?string $id = NULL): array {
    $row = $this->outbox->get((int) $id);
    if ($row === NULL) {
      throw new NotFoundHttpException();
    }
    $this->row = $row;
    $form_state->set('outbox_id', (int) $row['id']);
    $form['error'] = [
      '#type' => 'item',
      '#title' => $this->t('Last error'),
      '#plain_text' => trim(($row['errorClass'] ?? '') . ': ' . ($row['lastError'] ?? ''), ': ') ?: $this->t('none'),
    ];
    return parent::buildForm($form, $form_state);
  }

  /**
   * {@inheritdoc}
   */
  public function getQuestion(): TranslatableMarkup {
    return $this->t('Replay outbox row @id (@op)?', ['@id' => $this->row['id'] ?? '', '@op' => $this->row['op'] ?? '']);
  }

  /**
   * {@inheritdoc}
   */
  public function getDescription(): TranslatableMarkup {
    return $this->t('It is sent again with the same idempotency key, so Trading Grid applies it at most once.');
  }

  /**
   * {@inheritdoc}
   */
  public function getConfirmText(): TranslatableMarkup {
    return $this->t('Replay');
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
    $id = (int) $form_state->get('outbox_id');
    if ($this->outbox->replay($id)) {
      $this->messenger()->addStatus($this->t('Outbox row @id will be sent again.', ['@id' => $id]));
    }
    else {
      $this->messenger()->addWarning($this->t('Outbox row @id is not a dead letter any more.', ['@id' => $id]));
    }
    $form_state->setRedirectUrl($this->getCancelUrl());
  }

}
