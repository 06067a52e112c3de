<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\Partner;

use Drupal\Core\Config\ConfigFactoryInterface;
use Drupal\Core\Database\Connection;
use Drupal\trading_grid\Flow\EventHandlerInterface;
use Drupal\trading_grid\Flow\Notification\PartnerNotifier;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Sync\EntityLookup;
use Drupal\trading_grid\Sync\OutboxWriter;
use Drupal\trading_grid\Sync\Suppression;
use Drupal\user\UserInterface;

/**
 * Flow 1, network ⇒ portal: the partner id, membership status, access decisions
 * and the partner role follow what Trading Grid decided; an active member gets its
 * network user and role, which goes when the membership ends (NetworkUsers).
 */
final class PartnerHandler implements EventHandlerInterface {

  /**
   * Membership statuses that grant the partner role.
   */
  private const GRANTING = ['active'];

  public function __construct(
    private readonly EntityLookup $lookup,
    private readonly LinkStore $links,
    private readonly Suppression $suppression,
    private readonly PartnerNotifier $notifier,
    private readonly ConfigFactoryInterface $configFactory,
    private readonly NetworkUsers $networkUsers,
    private readonly OutboxWriter $writer,
    private readonly Connection $database,
  ) {}

  /**
   * {@inheritdoc}
   */
  public function types(): array {
    return [
      'partner.created',
      'partner.updated',
      'partner.deleted',
      'membership.changed',
      'access_request.created',
      'access_request.changed',
    ];
  }

  /**
   * {@inheritdoc}
   */
  public function handle(array $event): void {
    $data = (array) ($event['data'] ?? []);
    $user = $this->lookup->user(self::str($data['externalId'] ?? NULL), self::str($data['partnerId'] ?? NULL));
    if ($user === NULL) {
      return;
    }
    switch ($event['type']) {
      case 'partner.created':
      case 'partner.updated':
        $partnerId = self::str($data['partnerId'] ?? NULL);
        if ($partnerId !== NULL) {
          $this->links->record('user', (string) $user->id(), 'partner', LinkStore::SYNCED, $partnerId, NULL, 'partner.upsert');
          $this->save($user, fn (UserInterface $u): bool => self::set($u, 'field_tg_trading_grid_id', $partnerId));
        }
        break;

      case 'partner.deleted':
        $this->links->record('user', (string) $user->id(), 'partner', LinkStore::WITHDRAWN, NULL, NULL, 'partner.delete');
        // Its company's users went with it.
        $this->networkUsers->forget($user);
        $this->save($user, fn (UserInterface $u): bool => $this->applyMembership($u, 'removed'));
        break;

      case 'membership.changed':
        $status = self::str($data['status'] ?? NULL);
        if ($status === NULL) {
          return;
        }
        // The account and the network user ops its new status calls for commit together:
        // if handling fails half way, the retried event finds neither done.
        $this->writer->forget();
        $transaction = $this->database->startTransaction();
        try {
          $changed = $this->save($user, fn (UserInterface $u): bool => $this->applyMembership($u, $status));
          if ($changed) {
            $this->networkUser($user, $status);
          }
        }
        catch (\Throwable $e) {
          $transaction->rollBack();
          $this->writer->forget();
          throw $e;
        }
        unset($transaction);
        if ($changed) {
          $community = self::str($data['communityId'] ?? NULL) ?? 'the community';
          $this->notifier->notify([$user], 'Your Trading Grid membership changed', "Your membership of $community is now $status.", (string) ($event['id'] ?? ''));
        }
        break;

      case 'access_request.created':
        $requestId = self::str($data['requestId'] ?? NULL);
        if ($requestId !== NULL) {
          $this->links->record('user', (string) $user->id(), 'access_request', LinkStore::SYNCED, $requestId, NULL, 'access_request.create');
        }
        break;

      case 'access_request.changed':
        $status = self::str($data['status'] ?? NULL) ?? '';
        $community = self::str($data['communityId'] ?? NULL) ?? 'the community';
        if ($status === 'rejected') {
          $this->save($user, fn (UserInterface $u): bool => (string) self::current($u, 'field_tg_membership_status') !== 'active'
            && $this->applyMembership($u, 'rejected'));
        }
        $note = self::str($data['note'] ?? NULL);
        $this->notifier->notify([$user], 'Your access request was ' . ($status ?: 'updated'),
          "Your request to join $community was $status." . ($note ? " Note: $note" : ''), (string) ($event['id'] ?? ''));
        break;
    }
  }

  /**
   * Writes what the network user needs for a new membership status: created with
   * its role when active, its role taken when the membership ended.
   */
  private function networkUser(UserInterface $user, string $status): void {
    $ops = match (TRUE) {
      in_array($status, self::GRANTING, TRUE) => $this->networkUsers->unlessRefused($user, 'company_user.create', fn () => $this->networkUsers->activated($user)),
      $status !== 'pending' => $this->networkUsers->unlessRefused($user, 'company_user.roles', fn () => $this->networkUsers->deactivated($user)),
      default => [],
    };
    foreach ($ops as $op) {
      $this->writer->write($op);
    }
  }

  /**
   * Sets the membership status and the partner role; TRUE when something changed.
   */
  private function applyMembership(UserInterface $user, string $status): bool {
    $changed = self::set($user, 'field_tg_membership_status', $status);
    $role = (string) $this->configFactory->get('trading_grid.settings')->get('partner_role');
    if ($role !== '') {
      if (in_array($status, self::GRANTING, TRUE) && !$user->hasRole($role)) {
        $user->addRole($role);
        $changed = TRUE;
      }
      elseif (!in_array($status, self::GRANTING, TRUE) && $status !== 'pending' && $user->hasRole($role)) {
        $user->removeRole($role);
        $changed = TRUE;
      }
    }
    return $changed;
  }

  /**
   * Applies a change and saves the account without sending it back; TRUE if saved.
   *
   * @param callable(\Drupal\user\UserInterface): bool $change
   *   Returns whether it changed anything.
   */
  private function save(UserInterface $user, callable $change): bool {
    if (!$change($user)) {
      return FALSE;
    }
    $this->suppression->run(static fn () => $user->save());
    return TRUE;
  }

  /**
   * Sets a field if the account has it and the value differs.
   */
  private static function set(UserInterface $user, string $field, string $value): bool {
    if (!$user->hasField($field) || (string) self::current($user, $field) === $value) {
      return FALSE;
    }
    $user->set($field, $value);
    return TRUE;
  }

  /**
   * The current value of a single-valued field.
   */
  private static function current(UserInterface $user, string $field): ?string {
    return $user->hasField($field) && !$user->get($field)->isEmpty() ? (string) $user->get($field)->value : NULL;
  }

  /**
   * A non-empty string from event data, or NULL.
   */
  private static function str(mixed $value): ?string {
    return is_scalar($value) && (string) $value !== '' ? (string) $value : NULL;
  }

}
