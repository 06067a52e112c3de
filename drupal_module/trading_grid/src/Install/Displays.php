<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Install;

use Drupal\Core\DependencyInjection\ContainerInjectionInterface;
use Drupal\Core\Entity\EntityDisplayRepositoryInterface;
use Symfony\Component\DependencyInjection\ContainerInterface;

/**
 * Puts the module's fields on the form and view displays when it is installed, so
 * editors see them without a trip to "Manage form display".
 */
final class Displays implements ContainerInjectionInterface {

  /**
   * Field => [widget, formatter] per bundle.
   */
  private const COMPONENTS = [
    'node' => [
      'trading_grid_document' => [
        'field_tg_document_id' => ['string_textfield', 'string'],
        'field_tg_version' => ['number', 'number_integer'],
        'field_tg_file' => ['file_generic', 'file_default'],
        'field_tg_approved' => ['boolean_checkbox', 'boolean'],
        'field_tg_communities' => ['string_textfield', 'string'],
        'field_tg_partner_types' => ['options_buttons', 'list_default'],
        'field_tg_organisation' => ['string_textfield', 'string'],
        'field_tg_effective_date' => ['datetime_default', 'datetime_default'],
        'field_tg_description' => ['string_textarea', 'basic_string'],
      ],
      'trading_grid_catalog_item' => [
        'field_tg_sku' => ['string_textfield', 'string'],
        'field_tg_catalog_kind' => ['options_select', 'list_default'],
        'field_tg_description' => ['string_textarea', 'basic_string'],
        'field_tg_communities' => ['string_textfield', 'string'],
        'field_tg_partner_types' => ['options_buttons', 'list_default'],
        'field_tg_effective_date' => ['datetime_default', 'datetime_default'],
      ],
      'trading_grid_knowledge' => [
        'field_tg_knowledge_kind' => ['options_select', 'list_default'],
        'field_tg_description' => ['string_textarea', 'basic_string'],
        'field_tg_topic' => ['entity_reference_autocomplete', 'entity_reference_label'],
        'field_tg_region' => ['entity_reference_autocomplete', 'entity_reference_label'],
        'field_tg_partner_type_terms' => ['entity_reference_autocomplete', 'entity_reference_label'],
      ],
      'trading_grid_issue' => [
        'field_tg_issue_type' => ['options_select', 'list_default'],
        'field_tg_priority' => ['options_select', 'list_default'],
        'field_tg_issue_status' => ['options_select', 'list_default'],
        'field_tg_po_number' => ['string_textfield', 'string'],
        'field_tg_invoice_number' => ['string_textfield', 'string'],
        'field_tg_shipment_number' => ['string_textfield', 'string'],
        'field_tg_description' => ['string_textarea', 'basic_string'],
        'field_tg_attachments' => ['file_generic', 'file_default'],
        'field_tg_organisation' => ['string_textfield', 'string'],
        'field_tg_resolution' => ['string_textarea', 'basic_string'],
      ],
    ],
    'user' => [
      'user' => [
        'field_tg_organisation' => ['string_textfield', 'string'],
        'field_tg_partner_type' => ['options_select', 'list_default'],
        'field_tg_country' => ['string_textfield', 'string'],
        'field_tg_communities' => ['string_textfield', 'string'],
      ],
    ],
  ];

  public function __construct(private readonly EntityDisplayRepositoryInterface $displays) {}

  /**
   * {@inheritdoc}
   */
  public static function create(ContainerInterface $container): static {
    return new static($container->get('entity_display.repository'));
  }

  /**
   * Adds the components that are not on the displays yet.
   */
  public function configure(): void {
    foreach (self::COMPONENTS as $entityType => $bundles) {
      foreach ($bundles as $bundle => $fields) {
        $form = $this->displays->getFormDisplay($entityType, $bundle);
        $view = $this->displays->getViewDisplay($entityType, $bundle);
        $weight = 10;
        foreach ($fields as $field => [$widget, $formatter]) {
          if ($form->getComponent($field) === NULL) {
            $form->setComponent($field, ['type' => $widget, 'weight' => $weight]);
          }
          if ($view->getComponent($field) === NULL) {
            $view->setComponent($field, ['type' => $formatter, 'weight' => $weight, 'label' => 'inline']);
          }
          $weight++;
        }
        $form->save();
        $view->save();
      }
    }
  }

}
