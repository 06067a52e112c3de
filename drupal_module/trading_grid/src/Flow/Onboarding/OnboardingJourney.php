<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\Onboarding;

use Drupal\Core\Config\ConfigFactoryInterface;
use Drupal\trading_grid\Store\MetricsStore;
use Drupal\trading_grid\Sync\ExternalId;
use Drupal\trading_grid\Sync\OutboundOp;
use Drupal\trading_grid\Sync\OutboxWriter;
use Drupal\user\UserInterface;

/**
 * Flow 4: a partner's onboarding journey: the configured steps, which are done,
 * the progress and the next step. Steps done on the portal go to the network;
 * steps done on the network (training, acknowledgements, accepted documents) come
 * back through OnboardingHandler.
 */
final class OnboardingJourney {

  public const DONE_FIELD = 'field_tg_onboarding_done';

  public const PROGRESS_FIELD = 'field_tg_onboarding_progress';

  /**
   * The step completed on the portal when the company profile is filled in.
   */
  public const PROFILE_STEP = 'company-profile';

  /**
   * Steps completed during a save, by account object, sent once the save is done.
   *
   * @var array<int, list<string>>
   */
  private array $pending = [];

  public function __construct(
    private readonly ConfigFactoryInterface $configFactory,
    private readonly OutboxWriter $writer,
    private readonly MetricsStore $metrics,
  ) {}

  /**
   * The configured steps, in order.
   *
   * @return list<array{id: string, label: string, description: string}>
   *   The steps.
   */
  public function steps(): array {
    $steps = [];
    foreach ((array) $this->configFactory->get('trading_grid.settings')->get('onboarding_steps') as $step) {
      if (is_array($step) && ($step['id'] ?? '') !== '') {
        $steps[] = [
          'id' => (string) $step['id'],
          'label' => (string) ($step['label'] ?? $step['id']),
          'description' => (string) ($step['description'] ?? ''),
        ];
      }
    }
    return $steps;
  }

  /**
   * The ids of the steps a partner completed.
   *
   * @return string[]
   *   Step ids.
   */
  public function completed(UserInterface $user): array {
    if (!$user->hasField(self::DONE_FIELD)) {
      return [];
    }
    return array_values(array_filter(array_map(static fn ($item): string => (string) $item->value, iterator_to_array($user->get(self::DONE_FIELD)))));
  }

  /**
   * The percentage of configured steps completed.
   */
  public function progress(UserInterface $user): int {
    $steps = array_column($this->steps(), 'id');
    if ($steps === []) {
      return 100;
    }
    return (int) floor(100 * count(array_intersect($steps, $this->completed($user))) / count($steps));
  }

  /**
   * The first step not completed, or NULL when the journey is done.
   *
   * @return array{id: string, label: string, description: string}|null
   *   The step.
   */
  public function nextStep(UserInterface $user): ?array {
    $done = $this->completed($user);
    foreach ($this->steps() as $step) {
      if (!in_array($step['id'], $done, TRUE)) {
        return $step;
      }
    }
    return NULL;
  }

  /**
   * Marks a step completed on the account (not saved); TRUE when it was not yet.
   */
  public function markCompleted(UserInterface $user, string $stepId): bool {
    if (!$user->hasField(self::DONE_FIELD) || in_array($stepId, $this->completed($user), TRUE)) {
      return FALSE;
    }
    $user->get(self::DONE_FIELD)->appendItem(['value' => $stepId]);
    if ($user->hasField(self::PROGRESS_FIELD)) {
      $user->set(self::PROGRESS_FIELD, $this->progress($user));
    }
    return TRUE;
  }

  /**
   * Before a partner account is saved: completes the profile step once the
   * organisation, partner type and country are filled in.
   */
  public function beforeSave(UserInterface $user): void {
    if (!in_array(self::PROFILE_STEP, array_column($this->steps(), 'id'), TRUE)) {
      return;
    }
    foreach (['field_tg_organisation', 'field_tg_partner_type', 'field_tg_country'] as $field) {
      if (!$user->hasField($field) || trim((string) $user->get($field)->value) === '') {
        return;
      }
    }
    if ($this->markCompleted($user, self::PROFILE_STEP)) {
      $this->pending[spl_object_id($user)][] = self::PROFILE_STEP;
    }
  }

  /**
   * After a partner account is saved: sends the steps completed on the portal.
   */
  public function afterSave(UserInterface $user): void {
    $steps = $this->pending[spl_object_id($user)] ?? [];
    unset($this->pending[spl_object_id($user)]);
    $external = ExternalId::of($user);
    foreach ($steps as $step) {
      $this->writer->write(new OutboundOp('onboarding.step', [
        'externalId' => $external,
        'stepId' => $step,
        'status' => 'completed',
        'completedAt' => gmdate('Y-m-d\TH:i:s\Z'),
      ], 'partner:' . $external, 'onboarding', 'user', (string) $user->id()));
      $this->metrics->add('portal.onboarding_completed', 1, $step);
    }
  }

}
