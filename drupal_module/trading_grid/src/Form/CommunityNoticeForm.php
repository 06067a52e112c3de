<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Form;

use Drupal\Core\Form\FormBase;
use Drupal\Core\Form\FormStateInterface;
use Drupal\trading_grid\Sync\InvalidPayloadException;
use Drupal\trading_grid\Sync\OutboundOp;
use Drupal\trading_grid\Sync\OutboxWriter;
use Drupal\trading_grid\Sync\PayloadBuilder;
use Symfony\Component\DependencyInjection\ContainerInterface;

/**
 * Flow 8, portal ⇒ network: a notice or a task posted to a community.
 */
final class CommunityNoticeForm extends FormBase {

  // Protected, not private readonly: a cached form (a rebuild, an upload) gets its
  // services back through DependencySerializationTrait, which only sees and
  // writes such properties.
  public function __construct(
    protected OutboxWriter $writer,
    protected PayloadBuilder $payloads,
  ) {}

  /**
   * {@inheritdoc}
   */
  public static function create(ContainerInterface $container): static {
    return new static(
      $container->get('trading_grid.outbox_writer'),
      $container->get('trading_grid.payload_builder'),
    );
  }

  /**
   * {@inheritdoc}
   */
  public function getFormId(): string {
    return 'trading_grid_community_notice';
  }

  /**
   * {@inheritdoc}
   */
  public function buildForm(array $form, FormStateInterface $form_state): array {
    $form['community'] = [
      '#type' => 'textfield',
      '#title' => $this->t('Community id'),
      '#description' => $this->t('e.g. logistics-eu'),
      '#required' => TRUE,
      '#maxlength' => 128,
    ];
    $form['kind'] = [
      '#type' => 'radios',
      '#title' => $this->t('Kind'),
      '#options' => ['notice' => $this->t('Notice'), 'task' => $this->t('Task')],
      '#default_value' => 'notice',
    ];
    $form['title'] = ['#type' => 'textfield', '#title' => $this->t('Title'), '#required' => TRUE, '#maxlength' => 200];
    $form['body'] = ['#type' => 'textarea', '#title' => $this->t('Message'), '#required' => TRUE];
    $form['due'] = ['#type' => 'date', '#title' => $this->t('Due date (tasks)')];
    $form['actions'] = ['#type' => 'actions'];
    $form['actions']['submit'] = ['#type' => 'submit', '#value' => $this->t('Post'), '#button_type' => 'primary'];
    return $form;
  }

  /**
   * The payload of the notice in the form.
   *
   * @return array<string, string>
   *   notification.create payload.
   */
  private static function payload(FormStateInterface $form_state): array {
    $payload = [
      'communityId' => trim((string) $form_state->getValue('community')),
      'kind' => (string) $form_state->getValue('kind'),
      'title' => trim((string) $form_state->getValue('title')),
      'body' => trim((string) $form_state->getValue('body')),
    ];
    if ((string) $form_state->getValue('due') !== '') {
      $payload['dueDate'] = (string) $form_state->getValue('due');
    }
    return $payload;
  }

  /**
   * {@inheritdoc}
   */
  public function validateForm(array &$form, FormStateInterface $form_state): void {
    try {
      $this->payloads->validate('notification.create', self::payload($form_state));
    }
    catch (InvalidPayloadException $e) {
      $form_state->setErrorByName('', $e->getMessage());
    }
  }

  /**
   * {@inheritdoc}
   */
  public function submitForm(array &$form, FormStateInterface $form_state): void {
    $payload = self::payload($form_state);
    // A POST: a key of its own, so two notices are never coalesced into one row.
    $this->writer->write(new OutboundOp('notification.create', $payload, 'notification:' . bin2hex(random_bytes(8)), 'notification'));
    $this->messenger()->addStatus($this->t('The notice is on its way to @community.', ['@community' => $payload['communityId']]));
  }

}
