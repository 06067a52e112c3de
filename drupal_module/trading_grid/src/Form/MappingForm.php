<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Form;

use Drupal\Core\Entity\EntityTypeBundleInfoInterface;
use Drupal\Core\Form\FormBase;
use Drupal\Core\Form\FormStateInterface;
use Drupal\trading_grid\Sync\Mapping;
use Drupal\trading_grid\Sync\MappingRepository;
use Symfony\Component\DependencyInjection\ContainerInterface;

/**
 * Site builders map their bundles to Trading Grid operations.
 *
 * One line per payload field: "payload.path = source | transform | default=VALUE".
 * Sources are field names (field_company, mail, title) or the computed tg_* values.
 * Each mapping is checked by \TradingGrid\Mapper when saved, so a broken mapping is
 * reported here and not when an entity is saved.
 */
final class MappingForm extends FormBase {

  // Protected, not private readonly: a cached form (a rebuild, an upload) gets its
  // services back through DependencySerializationTrait, which only sees and
  // writes such properties.
  public function __construct(
    protected MappingRepository $mappings,
    protected EntityTypeBundleInfoInterface $bundleInfo,
  ) {}

  /**
   * {@inheritdoc}
   */
  public static function create(ContainerInterface $container): static {
    return new static(
      $container->get('trading_grid.mappings'),
      $container->get('entity_type.bundle.info'),
    );
  }

  /**
   * {@inheritdoc}
   */
  public function getFormId(): string {
    return 'trading_grid_mappings';
  }

  /**
   * The lines of a mapping's textarea.
   */
  public static function toText(Mapping $mapping): string {
    $lines = [];
    foreach ($mapping->fields as $field) {
      $parts = [$field['target'] . ' = ' . ($field['source'] ?? '')];
      foreach ($field['transforms'] as $transform) {
        $parts[] = $transform;
      }
      if ($field['default'] !== NULL) {
        $parts[] = 'default=' . $field['default'];
      }
      $lines[] = implode(' | ', $parts);
    }
    return implode("\n", $lines);
  }

  /**
   * The fields of a mapping from its textarea.
   *
   * @return list<array{target: string, source: ?string, transforms: list<string>, default: ?string}>
   *   The fields.
   *
   * @throws \InvalidArgumentException
   *   Naming the line that cannot be read.
   */
  public static function fromText(string $text): array {
    $fields = [];
    foreach (preg_split('/\R/', $text) as $n => $line) {
      $line = trim($line);
      if ($line === '' || str_starts_with($line, '#')) {
        continue;
      }
      $parts = array_map('trim', explode('|', $line));
      $head = array_shift($parts);
      if (!str_contains($head, '=')) {
        throw new \InvalidArgumentException(sprintf('Line %d: write "payload.path = source".', $n + 1));
      }
      [$target, $source] = array_map('trim', explode('=', $head, 2));
      if (!preg_match('/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/', $target)) {
        throw new \InvalidArgumentException(sprintf('Line %d: "%s" is not a payload path.', $n + 1, $target));
      }
      $transforms = [];
      $default = NULL;
      foreach ($parts as $part) {
        if (str_starts_with($part, 'default=')) {
          $default = substr($part, 8);
        }
        elseif ($part !== '') {
          $transforms[] = $part;
        }
      }
      $fields[] = ['target' => $target, 'source' => $source === '' ? NULL : $source, 'transforms' => $transforms, 'default' => $default];
    }
    return $fields;
  }

  /**
   * {@inheritdoc}
   */
  public function buildForm(array $form, FormStateInterface $form_state): array {
    if (!class_exists('\TradingGrid\Mapper')) {
      $this->messenger()->addWarning($this->t('The trading_grid PHP extension is not loaded, so mappings cannot be checked and cannot be saved here.'));
    }
    $form['help'] = [
      '#type' => 'item',
      '#markup' => $this->t('One line per payload field: <code>payload.path = source | transform | default=VALUE</code>. Transforms: trim, lowercase, uppercase, int, bool, date:Y-m-d, enum:From=to,Other=other. Computed sources: tg_external_id, tg_revision, tg_owner_external_id, tg_label, and for documents tg_document_id, tg_language, tg_translations, tg_sha256, tg_size; for issues tg_attachments.'),
    ];
    $form['mappings'] = ['#tree' => TRUE];
    foreach ($this->mappings->all() as $i => $mapping) {
      $form['mappings'][$i] = [
        '#type' => 'details',
        '#title' => $this->t('@type / @bundle → @op', ['@type' => $mapping->entityType, '@bundle' => $mapping->bundle, '@op' => $mapping->operation]),
        '#open' => FALSE,
      ];
      $form['mappings'][$i]['id'] = ['#type' => 'value', '#value' => $mapping->id];
      $form['mappings'][$i]['entity_type'] = ['#type' => 'value', '#value' => $mapping->entityType];
      $form['mappings'][$i]['bundle'] = ['#type' => 'value', '#value' => $mapping->bundle];
      $form['mappings'][$i]['operation'] = ['#type' => 'value', '#value' => $mapping->operation];
      $form['mappings'][$i]['status'] = [
        '#type' => 'checkbox',
        '#title' => $this->t('Enabled'),
        '#default_value' => $mapping->status,
      ];
      $form['mappings'][$i]['fields'] = [
        '#type' => 'textarea',
        '#title' => $this->t('Payload fields'),
        '#default_value' => self::toText($mapping),
        '#rows' => max(4, count($mapping->fields) + 1),
      ];
      $form['mappings'][$i]['delete'] = [
        '#type' => 'checkbox',
        '#title' => $this->t('Remove this mapping'),
      ];
    }
    $form['add'] = [
      '#type' => 'details',
      '#title' => $this->t('Map another bundle'),
      '#tree' => TRUE,
    ];
    $bundles = [];
    foreach (['node', 'user'] as $type) {
      foreach ($this->bundleInfo->getBundleInfo($type) as $bundle => $info) {
        $bundles["$type:$bundle"] = "$type: " . ($info['label'] ?? $bundle);
      }
    }
    $form['add']['bundle'] = [
      '#type' => 'select',
      '#title' => $this->t('Bundle'),
      '#options' => ['' => $this->t('- Choose -')] + $bundles,
    ];
    $form['add']['operation'] = [
      '#type' => 'select',
      '#title' => $this->t('Operation'),
      '#options' => array_combine(array_keys(Mapping::OPERATIONS), array_keys(Mapping::OPERATIONS)),
    ];
    $form['add']['fields'] = [
      '#type' => 'textarea',
      '#title' => $this->t('Payload fields'),
    ];
    $form['actions'] = ['#type' => 'actions'];
    $form['actions']['submit'] = ['#type' => 'submit', '#value' => $this->t('Save mappings'), '#button_type' => 'primary'];
    return $form;
  }

  /**
   * {@inheritdoc}
   */
  public function validateForm(array &$form, FormStateInterface $form_state): void {
    if (!class_exists('\TradingGrid\Mapper')) {
      $form_state->setErrorByName('', $this->t('The trading_grid PHP extension is not loaded in this PHP, so the mappings cannot be checked. Load it and try again.'));
      return;
    }
    $mappings = [];
    foreach ((array) $form_state->getValue('mappings', []) as $i => $values) {
      if (!empty($values['delete'])) {
        continue;
      }
      $mapping = $this->check("mappings][$i][fields", (string) $values['id'], (string) $values['entity_type'], (string) $values['bundle'], (string) $values['operation'], (bool) $values['status'], (string) $values['fields'], $form_state);
      if ($mapping !== NULL) {
        $mappings[] = $mapping;
      }
    }
    $add = (array) $form_state->getValue('add', []);
    if (($add['bundle'] ?? '') !== '') {
      [$type, $bundle] = explode(':', (string) $add['bundle'], 2);
      $operation = (string) $add['operation'];
      foreach ($mappings as $existing) {
        if ($existing->entityType === $type && $existing->bundle === $bundle && $existing->operation === $operation) {
          $form_state->setErrorByName('add][bundle', $this->t('@bundle is already mapped to @op.', ['@bundle' => $bundle, '@op' => $operation]));
        }
      }
      $mapping = $this->check('add][fields', "{$type}_{$bundle}_" . str_replace('.', '_', $operation), $type, $bundle, $operation, TRUE, (string) $add['fields'], $form_state);
      if ($mapping !== NULL) {
        $mappings[] = $mapping;
      }
    }
    $form_state->set('checked', $mappings);
  }

  /**
   * Reads and checks one mapping; NULL (with a form error) when it is broken.
   */
  private function check(string $element, string $id, string $type, string $bundle, string $operation, bool $status, string $text, FormStateInterface $form_state): ?Mapping {
    try {
      $mapping = new Mapping($id, $type, $bundle, $operation, $status, self::fromText($text));
      // Checks the operation, the transforms and the payload paths now.
      new \TradingGrid\Mapper($operation, $mapping->mapperSpec());
      return $mapping;
    }
    catch (\InvalidArgumentException $e) {
      $form_state->setErrorByName($element, $e->getMessage());
    }
    catch (\TradingGrid\ValidationException $e) {
      $form_state->setErrorByName($element, $this->t('@bundle → @op: @message', ['@bundle' => $bundle, '@op' => $operation, '@message' => $e->getMessage()]));
    }
    return NULL;
  }

  /**
   * {@inheritdoc}
   */
  public function submitForm(array &$form, FormStateInterface $form_state): void {
    $this->mappings->save((array) $form_state->get('checked'));
    $this->messenger()->addStatus($this->t('The mappings were saved.'));
  }

}
