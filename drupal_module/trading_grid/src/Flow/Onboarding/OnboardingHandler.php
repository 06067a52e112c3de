<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\Onboarding;

use Drupal\trading_grid\Flow\EventHandlerInterface;
use Drupal\trading_grid\Flow\Notification\PartnerNotifier;
use Drupal\trading_grid\Sync\EntityLookup;
use Drupal\trading_grid\Sync\Suppression;

/**
 * Flow 4, network ⇒ portal: completions recorded on the network move the partner's
 * journey on, and the partner is told the next step.
 */
final class OnboardingHandler implements EventHandlerInterface {

  /**
   * The step a first accepted document completes.
   */
  public const DOCUMENT_STEP = 'first-document';

  public function __construct(
    private readonly EntityLookup $lookup,
    private readonly OnboardingJourney $journey,
    private readonly Suppression $suppression,
    private readonly PartnerNotifier $notifier,
  ) {}

  /**
   * {@inheritdoc}
   */
  public function types(): array {
    return ['onboarding.training_completed', 'onboarding.acknowledged', 'onboarding.step_recorded', 'document.accepted'];
  }

  /**
   * {@inheritdoc}
   */
  public function handle(array $event): void {
    $data = (array) ($event['data'] ?? []);
    $user = $this->lookup->user(
      is_scalar($data['externalId'] ?? NULL) ? (string) $data['externalId'] : NULL,
      is_scalar($data['partnerId'] ?? NULL) ? (string) $data['partnerId'] : NULL,
    );
    if ($user === NULL) {
      return;
    }
    if ($event['type'] === 'onboarding.step_recorded' && ($data['status'] ?? 'completed') !== 'completed') {
      return;
    }
    $step = $event['type'] === 'document.accepted' ? self::DOCUMENT_STEP : (string) ($data['stepId'] ?? '');
    if ($step === '' || !$this->journey->markCompleted($user, $step)) {
      return;
    }
    $this->suppression->run(static fn () => $user->save());
    if ($event['type'] === 'onboarding.step_recorded') {
      return;
    }
    $labels = array_column($this->journey->steps(), 'label', 'id');
    $next = $this->journey->nextStep($user);
    $message = sprintf('"%s" is done: your onboarding is %d%% complete.', $labels[$step] ?? $step, $this->journey->progress($user));
    $message .= $next !== NULL ? sprintf(' Next step: %s.', $next['label']) : ' Your onboarding is complete.';
    $this->notifier->notify([$user], 'Onboarding step completed', $message, (string) ($event['id'] ?? ''));
  }

}
