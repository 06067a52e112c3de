<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Form;

use Drupal\Core\Config\ConfigFactoryInterface;
use Drupal\Core\Config\TypedConfigManagerInterface;
use Drupal\Core\Form\ConfigFormBase;
use Drupal\Core\Form\FormStateInterface;
use Drupal\Core\Url;
use Drupal\trading_grid\Connection\ClientFactory;
use Drupal\trading_grid\Connection\ExtensionMissingException;
use Drupal\trading_grid\Connection\Secrets;
use Symfony\Component\DependencyInjection\ContainerInterface;

/**
 * The connection settings and the "Test connection" button.
 *
 * Secrets are never shown or stored here: the form says where each one was found
 * (settings.php or the environment) and how to provide a missing one.
 */
final class SettingsForm extends ConfigFormBase {

  // Protected, not private readonly: a cached form (a rebuild, an upload) gets its
  // services back through DependencySerializationTrait, which only sees and
  // writes such properties.
  public function __construct(
    ConfigFactoryInterface $config_factory,
    TypedConfigManagerInterface $typed_config_manager,
    protected ClientFactory $clients,
    protected Secrets $secrets,
  ) {
    parent::__construct($config_factory, $typed_config_manager);
  }

  /**
   * {@inheritdoc}
   */
  public static function create(ContainerInterface $container): static {
    return new static(
      $container->get('config.factory'),
      $container->get('config.typed'),
      $container->get('trading_grid.client_factory'),
      $container->get('trading_grid.secrets'),
    );
  }

  /**
   * {@inheritdoc}
   */
  public function getFormId(): string {
    return 'trading_grid_settings';
  }

  /**
   * {@inheritdoc}
   */
  protected function getEditableConfigNames(): array {
    return ['trading_grid.settings'];
  }

  /**
   * {@inheritdoc}
   */
  public function buildForm(array $form, FormStateInterface $form_state): array {
    $config = $this->config('trading_grid.settings');
    $version = $this->clients->extensionVersion();
    $form['extension'] = [
      '#type' => 'item',
      '#title' => $this->t('PHP extension'),
      '#markup' => $version !== NULL
        ? $this->t('trading_grid @version is loaded.', ['@version' => $version])
        : $this->t('The trading_grid PHP extension is not loaded: changes are recorded in the outbox and sent once it is.'),
    ];
    $form['endpoint'] = [
      '#type' => 'url',
      '#title' => $this->t('Endpoint'),
      '#description' => $this->t('Base URL of the Trading Grid API: the pre-production (apibetagrid), production (apigrid) or EU host of your tenant, or a sandbox.'),
      '#default_value' => $config->get('endpoint'),
      '#maxlength' => 255,
    ];
    $form['tenant'] = [
      '#type' => 'textfield',
      '#title' => $this->t('Tenant'),
      '#description' => $this->t('The hub companyId (BUID), e.g. GC51278300AS.'),
      '#default_value' => $config->get('tenant'),
      '#maxlength' => 64,
    ];
    $form['client_id'] = [
      '#type' => 'textfield',
      '#title' => $this->t('Client id'),
      '#description' => $this->t('The consumer key of your Trading Grid API application.'),
      '#default_value' => $config->get('client_id'),
      '#maxlength' => 255,
    ];
    $form['secrets'] = [
      '#type' => 'details',
      '#title' => $this->t('Secrets'),
      '#open' => TRUE,
      '#description' => $this->t('Secrets are never stored in configuration. Set them in settings.php, e.g. <code>$settings[\'trading_grid\'][\'client_secret\'] = getenv(\'TRADING_GRID_CLIENT_SECRET\');</code>, or in the environment variables named here.'),
    ];
    foreach ([Secrets::CLIENT => $this->t('Client secret'), Secrets::WEBHOOK => $this->t('Webhook secret')] as $name => $label) {
      $form['secrets'][$name . '_status'] = [
        '#type' => 'item',
        '#title' => $label,
        '#markup' => match ($this->secrets->source($name)) {
          'settings' => $this->t('Set in settings.php.'),
          'environment' => $this->t('Set in the environment.'),
          default => $this->t('Missing.'),
        },
      ];
      $key = $name === Secrets::CLIENT ? 'client_secret_env' : 'webhook_secret_env';
      $form['secrets'][$key] = [
        '#type' => 'textfield',
        '#title' => $this->t('Environment variable for the @label', ['@label' => mb_strtolower((string) $label)]),
        '#default_value' => $config->get($key),
        '#maxlength' => 128,
      ];
    }
    $form['webhook'] = [
      '#type' => 'item',
      '#title' => $this->t('Webhook URL'),
      '#markup' => Url::fromRoute('trading_grid.webhook', [], ['absolute' => TRUE])->toString(),
      '#description' => $this->t('Subscribe this URL on Trading Grid with the webhook secret; events are also pulled on cron.'),
    ];
    $form['delivery'] = [
      '#type' => 'details',
      '#title' => $this->t('Delivery'),
      '#open' => FALSE,
    ];
    $form['delivery']['drain_on_terminate'] = [
      '#type' => 'checkbox',
      '#title' => $this->t('Send changes right after the response'),
      '#default_value' => $config->get('drain_on_terminate'),
    ];
    $numbers = [
      'terminate_time_budget' => [$this->t('Seconds spent sending after a response'), 0.1, 60],
      'cron_time_budget' => [$this->t('Seconds spent sending on cron'), 1, 600],
      'batch_size' => [$this->t('Operations sent at once'), 1, 1000],
      'lease_seconds' => [$this->t('Lease on operations being sent (seconds)'), 5, 3600],
      'timeout_ms' => [$this->t('Request timeout (ms)'), 100, 120000],
      'connect_timeout_ms' => [$this->t('Connect timeout (ms)'), 100, 60000],
      'concurrency' => [$this->t('Operations in flight at once'), 1, 256],
      'max_retries' => [$this->t('Retries within one delivery'), 0, 10],
    ];
    foreach ($numbers as $key => [$title, $min, $max]) {
      $form['delivery'][$key] = [
        '#type' => 'number',
        '#title' => $title,
        '#min' => $min,
        '#max' => $max,
        '#step' => is_float($min) ? 0.1 : 1,
        '#default_value' => $config->get($key),
      ];
    }
    $form['delivery']['pull_on_cron'] = [
      '#type' => 'checkbox',
      '#title' => $this->t('Pull the event feed on cron'),
      '#default_value' => $config->get('pull_on_cron'),
    ];
    $form['delivery']['lens_scan_on_cron'] = [
      '#type' => 'checkbox',
      '#title' => $this->t('Raise trading issues from failed transactions'),
      '#description' => $this->t('On cron, read Lens for business documents whose delivery failed or that failed validation, and open a trading issue for each, addressed to the partner trading under its address.'),
      '#default_value' => $config->get('lens_scan_on_cron'),
    ];
    $form['delivery']['lens_lookback_days'] = [
      '#type' => 'number',
      '#title' => $this->t('First scan looks back (days)'),
      '#min' => 0,
      '#max' => 365,
      '#step' => 1,
      '#default_value' => $config->get('lens_lookback_days') ?? 7,
      '#states' => ['visible' => [':input[name="lens_scan_on_cron"]' => ['checked' => TRUE]]],
    ];
    $form['delivery']['notify_by_mail'] = [
      '#type' => 'checkbox',
      '#title' => $this->t('E-mail network notifications to the people concerned'),
      '#default_value' => $config->get('notify_by_mail'),
    ];
    $form['delivery']['partner_role'] = [
      '#type' => 'select',
      '#title' => $this->t('Role granted while a membership is active'),
      '#options' => ['' => $this->t('- None -')] + $this->roleOptions(),
      '#default_value' => $config->get('partner_role'),
    ];
    $form['delivery']['network_user_role'] = [
      '#type' => 'textfield',
      '#title' => $this->t('Trading Grid role of active members'),
      '#description' => $this->t('Each active member gets a user of its partner company on Trading Grid with this role (the role name as Trading Grid spells it, e.g. "Partner User"); the role is taken away when the membership ends and the user is deleted with the account. Leave empty to manage network users on Trading Grid only.'),
      '#maxlength' => 100,
      '#default_value' => $config->get('network_user_role'),
    ];

    $form = parent::buildForm($form, $form_state);
    $form['actions']['test'] = [
      '#type' => 'submit',
      '#value' => $this->t('Test connection'),
      '#submit' => ['::testConnection'],
      '#limit_validation_errors' => [['endpoint'], ['tenant'], ['client_id']],
    ];
    return $form;
  }

  /**
   * Roles that can be granted.
   *
   * @return array<string, string>
   *   Role id => label.
   */
  private function roleOptions(): array {
    $options = [];
    foreach ($this->configFactory->listAll('user.role.') as $name) {
      $id = substr($name, strlen('user.role.'));
      if (!in_array($id, ['anonymous', 'authenticated'], TRUE)) {
        $options[$id] = (string) ($this->configFactory->get($name)->get('label') ?? $id);
      }
    }
    return $options;
  }

  /**
   * {@inheritdoc}
   */
  public function validateForm(array &$form, FormStateInterface $form_state): void {
    $endpoint = trim((string) $form_state->getValue('endpoint'));
    if ($endpoint !== '' && !preg_match('#^https://#i', $endpoint)
      && !preg_match('#^http://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(/|$)#i', $endpoint)) {
      $form_state->setErrorByName('endpoint', $this->t('Use https:// (plain http:// only on this machine, for a sandbox).'));
    }
    foreach (['client_secret_env', 'webhook_secret_env'] as $key) {
      $value = trim((string) $form_state->getValue($key));
      if ($value !== '' && !preg_match('/^[A-Z_][A-Z0-9_]*$/', $value)) {
        $form_state->setErrorByName($key, $this->t('An environment variable name is upper-case letters, digits and underscores.'));
      }
    }
    parent::validateForm($form, $form_state);
  }

  /**
   * {@inheritdoc}
   */
  public function submitForm(array &$form, FormStateInterface $form_state): void {
    $config = $this->config('trading_grid.settings');
    foreach (['endpoint', 'tenant', 'client_id', 'client_secret_env', 'webhook_secret_env', 'partner_role', 'network_user_role'] as $key) {
      $config->set($key, trim((string) $form_state->getValue($key)));
    }
    foreach (['drain_on_terminate', 'pull_on_cron', 'lens_scan_on_cron', 'notify_by_mail'] as $key) {
      $config->set($key, (bool) $form_state->getValue($key));
    }
    foreach (['terminate_time_budget', 'cron_time_budget'] as $key) {
      $config->set($key, (float) $form_state->getValue($key));
    }
    foreach (['batch_size', 'lease_seconds', 'timeout_ms', 'connect_timeout_ms', 'concurrency', 'max_retries', 'lens_lookback_days'] as $key) {
      $config->set($key, (int) $form_state->getValue($key));
    }
    $config->save();
    parent::submitForm($form, $form_state);
  }

  /**
   * Submit handler of "Test connection": pings with the values in the form.
   */
  public function testConnection(array &$form, FormStateInterface $form_state): void {
    $form_state->setRebuild();
    $options = [
      'baseUrl' => rtrim(trim((string) $form_state->getValue('endpoint')), '/'),
      'tenant' => trim((string) $form_state->getValue('tenant')),
      'clientId' => trim((string) $form_state->getValue('client_id')),
    ];
    try {
      if ($this->secrets->get(Secrets::CLIENT) === NULL) {
        throw new ExtensionMissingException('The client secret is missing: set it in settings.php or the environment.');
      }
      $answer = $this->clients->clientWith($options)->ping();
      $this->messenger()->addStatus($this->t('Connected to tenant @tenant in @ms ms.', [
        '@tenant' => $answer['tenant'] ?? $options['tenant'],
        '@ms' => round((float) ($answer['latencyMs'] ?? 0)),
      ]));
    }
    catch (ExtensionMissingException $e) {
      $this->messenger()->addError($e->getMessage());
    }
    catch (\TradingGrid\ValidationException $e) {
      $this->messenger()->addError($this->t('The setting @field is not valid: @message', ['@field' => $e->getField(), '@message' => $e->getMessage()]));
    }
    catch (\TradingGrid\AuthException $e) {
      $this->messenger()->addError($this->t('Trading Grid refused the client id or secret: @message', ['@message' => $e->getMessage()]));
    }
    catch (\TradingGrid\RateLimitedException $e) {
      $this->messenger()->addError($this->t('Trading Grid is limiting requests; try again in @s seconds.', ['@s' => ceil($e->getRetryAfter())]));
    }
    catch (\TradingGrid\TransportException $e) {
      $this->messenger()->addError($this->t('Trading Grid could not be reached (network, DNS, TLS or timeout): @message', ['@message' => $e->getMessage()]));
    }
    catch (\TradingGrid\ApiException $e) {
      $this->messenger()->addError($this->t('Trading Grid answered with an error (HTTP @status): @message', ['@status' => $e->getStatus(), '@message' => $e->getMessage()]));
    }
    catch (\TradingGrid\Exception $e) {
      $this->messenger()->addError($this->t('The connection test failed: @message', ['@message' => $e->getMessage()]));
    }
  }

}
