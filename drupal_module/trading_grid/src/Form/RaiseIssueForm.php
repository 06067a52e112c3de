<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Form;

use Drupal\Core\Entity\EntityTypeManagerInterface;
use Drupal\Core\Form\FormBase;
use Drupal\Core\Form\FormStateInterface;
use Drupal\trading_grid\Access\PartnerContext;
use Symfony\Component\DependencyInjection\ContainerInterface;

/**
 * A partner raises a trading issue for its own organisation.
 *
 * Saving creates the issue node; the node hook writes the issue.create row in the
 * same transaction, and it is sent after the response.
 */
final class RaiseIssueForm extends FormBase {

  public const TYPES = [
    'shipment_discrepancy' => 'Shipment discrepancy',
    'invoice_dispute' => 'Invoice dispute',
    'missing_documentation' => 'Missing documentation',
    'other' => 'Other',
  ];

  public const PRIORITIES = ['low' => 'Low', 'normal' => 'Normal', 'high' => 'High', 'urgent' => 'Urgent'];

  // Protected, not private readonly: a cached form (a rebuild, an upload) gets its
  // services back through DependencySerializationTrait, which only sees and
  // writes such properties.
  public function __construct(
    protected EntityTypeManagerInterface $entityTypeManager,
    protected PartnerContext $partners,
  ) {}

  /**
   * {@inheritdoc}
   */
  public static function create(ContainerInterface $container): static {
    return new static(
      $container->get('entity_type.manager'),
      $container->get('trading_grid.partner_context'),
    );
  }

  /**
   * {@inheritdoc}
   */
  public function getFormId(): string {
    return 'trading_grid_raise_issue';
  }

  /**
   * {@inheritdoc}
   */
  public function buildForm(array $form, FormStateInterface $form_state): array {
    $form['organisation'] = [
      '#type' => 'item',
      '#title' => $this->t('Organisation'),
      '#plain_text' => $this->partners->organisation($this->currentUser()),
    ];
    $form['type'] = [
      '#type' => 'select',
      '#title' => $this->t('Issue type'),
      '#options' => array_map(fn (string $l) => $this->t($l), self::TYPES),
      '#required' => TRUE,
    ];
    $form['title'] = [
      '#type' => 'textfield',
      '#title' => $this->t('Subject'),
      '#maxlength' => 200,
      '#required' => TRUE,
    ];
    $form['references'] = [
      '#type' => 'fieldset',
      '#title' => $this->t('References'),
      '#description' => $this->t('An invoice dispute needs the invoice number; a shipment discrepancy needs the shipment or purchase order number.'),
    ];
    $form['references']['purchase_order'] = ['#type' => 'textfield', '#title' => $this->t('Purchase order number'), '#maxlength' => 64];
    $form['references']['invoice'] = ['#type' => 'textfield', '#title' => $this->t('Invoice number'), '#maxlength' => 64];
    $form['references']['shipment'] = ['#type' => 'textfield', '#title' => $this->t('Shipment number'), '#maxlength' => 64];
    $form['priority'] = [
      '#type' => 'select',
      '#title' => $this->t('Priority'),
      '#options' => array_map(fn (string $l) => $this->t($l), self::PRIORITIES),
      '#default_value' => 'normal',
    ];
    $form['description'] = [
      '#type' => 'textarea',
      '#title' => $this->t('Description'),
      '#required' => TRUE,
      '#maxlength' => 20000,
    ];
    $form['attachments'] = [
      '#type' => 'managed_file',
      '#title' => $this->t('Attachments'),
      '#multiple' => TRUE,
      '#upload_location' => 'public://trading-grid/issues',
      '#upload_validators' => ['FileExtension' => ['extensions' => 'pdf txt csv jpg jpeg png xls xlsx doc docx']],
    ];
    $form['actions'] = ['#type' => 'actions'];
    $form['actions']['submit'] = ['#type' => 'submit', '#value' => $this->t('Raise issue'), '#button_type' => 'primary'];
    return $form;
  }

  /**
   * {@inheritdoc}
   */
  public function validateForm(array &$form, FormStateInterface $form_state): void {
    $type = (string) $form_state->getValue('type');
    $filled = static fn (string $key): bool => trim((string) $form_state->getValue($key)) !== '';
    if ($type === 'invoice_dispute' && !$filled('invoice')) {
      $form_state->setErrorByName('invoice', $this->t('An invoice dispute needs the invoice number.'));
    }
    if ($type === 'shipment_discrepancy' && !$filled('shipment') && !$filled('purchase_order')) {
      $form_state->setErrorByName('shipment', $this->t('A shipment discrepancy needs the shipment or purchase order number.'));
    }
    if ($this->partners->organisation($this->currentUser()) === '') {
      $form_state->setErrorByName('', $this->t('Your account does not belong to a partner organisation.'));
    }
  }

  /**
   * {@inheritdoc}
   */
  public function submitForm(array &$form, FormStateInterface $form_state): void {
    $value = static fn (string $key): string => trim((string) $form_state->getValue($key));
    // A managed_file element's value is the list of uploaded file ids.
    $fids = array_values(array_filter(array_map('intval', array_filter((array) $form_state->getValue('attachments', []), 'is_scalar'))));
    $issue = $this->entityTypeManager->getStorage('node')->create([
      'type' => 'trading_grid_issue',
      'title' => $value('title'),
      'uid' => $this->currentUser()->id(),
      'status' => 1,
      'field_tg_issue_type' => $value('type'),
      'field_tg_priority' => $value('priority') ?: 'normal',
      'field_tg_issue_status' => 'open',
      'field_tg_po_number' => $value('purchase_order'),
      'field_tg_invoice_number' => $value('invoice'),
      'field_tg_shipment_number' => $value('shipment'),
      'field_tg_description' => $value('description'),
      'field_tg_organisation' => $this->partners->organisation($this->currentUser()),
      'field_tg_attachments' => array_map(static fn (int $fid): array => ['target_id' => $fid], $fids),
    ]);
    $issue->save();
    $this->messenger()->addStatus($this->t('Your trading issue was raised; it is on its way to Trading Grid.'));
    $form_state->setRedirect('trading_grid.partner.issue', ['node' => $issue->id()]);
  }

}
