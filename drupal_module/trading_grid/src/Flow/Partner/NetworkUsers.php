<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\Partner;

use Drupal\Core\Config\ConfigFactoryInterface;
use Drupal\user\UserDataInterface;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Sync\ExternalId;
use Drupal\trading_grid\Sync\InvalidPayloadException;
use Drupal\trading_grid\Sync\OutboundOp;
use Drupal\trading_grid\Sync\OutboxWriter;
use Drupal\trading_grid\Sync\PayloadBuilder;
use Drupal\user\UserInterface;

/**
 * Flow 1, portal ⇒ network, for people: an active member of a partner organisation
 * gets a user of its partner company on Trading Grid (Community Management, the
 * documented `company_user.*` operations) with the configured network role; the role
 * goes when the membership ends, the user follows the account's e-mail and name, and
 * goes when the account is deleted.
 *
 * The network user's immutable id (`uniqueId`) is kept in the link table (flow
 * `network_user`): the network's loginId can change, the id cannot. The ops go on a
 * key of their own (`network_user:<externalId>`), so a network user the network
 * refuses never holds up the partner's own changes; the partner company id and the
 * user id, unknown when an op is written, are filled in when it is sent (until the
 * partner upsert or the user's create is answered it waits, retried). The roles given
 * are remembered per account, so an ended membership takes away what was given even
 * after the setting changed. No password ever goes in the outbox: the person signs in
 * through the network's own first-login flow.
 */
final class NetworkUsers {

  public const FLOW = 'network_user';

  /**
   * The account has no network user (none made, or it is gone).
   */
  public const NONE = 'none';

  /**
   * Its create is queued or being retried: no id yet.
   */
  public const PENDING = 'pending';

  /**
   * It exists: the link holds its id.
   */
  public const EXISTS = 'exists';

  public function __construct(
    private readonly LinkStore $links,
    private readonly PayloadBuilder $payloads,
    private readonly ConfigFactoryInterface $configFactory,
    private readonly UserDataInterface $userData,
  ) {}

  /**
   * The network role active members get; '' when network users are not managed.
   */
  public function role(): string {
    return trim((string) $this->configFactory->get('trading_grid.settings')->get('network_user_role'));
  }

  /**
   * The ops one of the methods below builds, or none when the schema refuses one: the
   * refusal is recorded on the network user's flow (the sync log and the account's tab
   * say why), and the change that called for the ops still applies.
   *
   * @param callable(): list<\Drupal\trading_grid\Sync\OutboundOp> $build
   *   Calls activated(), deactivated(), changed() or deleted().
   *
   * @return list<\Drupal\trading_grid\Sync\OutboundOp>
   *   The ops to write.
   */
  public function unlessRefused(UserInterface $user, string $op, callable $build): array {
    try {
      return $build();
    }
    catch (InvalidPayloadException $e) {
      $this->links->record('user', (string) $user->id(), self::FLOW, LinkStore::FAILED, NULL, OutboxWriter::INVALID . $e->getMessage(), $op);
      return [];
    }
  }

  /**
   * The membership became active: the network user (the first time) and its role.
   *
   * @return list<\Drupal\trading_grid\Sync\OutboundOp>
   *   The ops to write.
   *
   * @throws \Drupal\trading_grid\Sync\InvalidPayloadException
   */
  public function activated(UserInterface $user): array {
    $role = $this->role();
    if ($role === '' || $user->isAnonymous() || trim((string) $user->getEmail()) === '') {
      return [];
    }
    $ops = [];
    if ($this->state($user) === self::NONE) {
      $ops[] = $this->op($user, 'company_user.create', ['user' => $this->body($user)]);
    }
    $ops[] = $this->op($user, 'company_user.roles', [
      'loginId' => trim((string) $user->getEmail()),
      'action' => 'add',
      'roles' => [['roleName' => $role]],
    ]);
    $given = $this->given($user);
    if (!in_array($role, $given, TRUE)) {
      $this->userData->set('trading_grid', (int) $user->id(), 'network_roles', [...$given, $role]);
    }
    return $ops;
  }

  /**
   * The membership ended (suspended, removed, rejected): the role goes, the user stays.
   *
   * @return list<\Drupal\trading_grid\Sync\OutboundOp>
   *   The ops to write.
   *
   * @throws \Drupal\trading_grid\Sync\InvalidPayloadException
   */
  public function deactivated(UserInterface $user): array {
    // What was given, not what the setting says now: a renamed setting must not leave
    // an ended member holding the old role.
    $given = $this->given($user) ?: array_filter([$this->role()]);
    if ($given === [] || $this->state($user) === self::NONE || trim((string) $user->getEmail()) === '') {
      return [];
    }
    $op = $this->op($user, 'company_user.roles', [
      'loginId' => trim((string) $user->getEmail()),
      'action' => 'remove',
      'roles' => array_map(static fn (string $r): array => ['roleName' => $r], array_values($given)),
    ]);
    $this->userData->delete('trading_grid', (int) $user->id(), 'network_roles');
    return [$op];
  }

  /**
   * The account was saved: its e-mail (the loginId) or name changed on the network too.
   *
   * @return list<\Drupal\trading_grid\Sync\OutboundOp>
   *   The ops to write.
   *
   * @throws \Drupal\trading_grid\Sync\InvalidPayloadException
   */
  public function changed(UserInterface $user, ?UserInterface $original): array {
    if ($original === NULL || $this->role() === '' || $this->state($user) === self::NONE) {
      return [];
    }
    $now = $this->body($user);
    $before = $this->body($original);
    $changes = [];
    if ($now['loginId'] !== $before['loginId']) {
      $changes['loginId'] = $now['loginId'];
      $changes['contactInformation'] = $now['contactInformation'];
    }
    foreach (['firstName', 'lastName'] as $key) {
      if ($now[$key] !== $before[$key]) {
        $changes[$key] = $now[$key];
      }
    }
    if ($changes === [] || $now['loginId'] === '') {
      return [];
    }
    return [$this->op($user, 'company_user.update', ['userId' => $this->userId($user), 'changes' => $changes])];
  }

  /**
   * The account was deleted: so is its network user (before the partner goes).
   *
   * @return list<\Drupal\trading_grid\Sync\OutboundOp>
   *   The ops to write.
   *
   * @throws \Drupal\trading_grid\Sync\InvalidPayloadException
   */
  public function deleted(UserInterface $user): array {
    if ($this->state($user) === self::NONE) {
      return [];
    }
    return [$this->op($user, 'company_user.delete', ['userId' => $this->userId($user)])];
  }

  /**
   * The documented "Create User" body for an account, without any password.
   *
   * @return array{loginId: string, firstName: string, lastName: string, type: string, contactInformation: array{email: string}, preferredLanguage?: string}
   *   The body.
   */
  public function body(UserInterface $user): array {
    $mail = trim((string) $user->getEmail());
    $name = trim(preg_replace('/\s+/u', ' ', (string) $user->getDisplayName()) ?? '');
    $parts = $name === '' ? [$mail] : explode(' ', $name);
    $first = array_shift($parts);
    $body = [
      'loginId' => $mail,
      'firstName' => mb_substr($first, 0, 200),
      // One word is both: the network wants a last name and the portal has none.
      'lastName' => mb_substr($parts === [] ? $first : implode(' ', $parts), 0, 200),
      'type' => 'Web',
      'contactInformation' => ['email' => $mail],
    ];
    $language = (string) $user->getPreferredLangcode();
    if (preg_match('/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/', $language)) {
      $body['preferredLanguage'] = $language;
    }
    return $body;
  }

  /**
   * An op on the network user's own ordering key, for the partner company.
   *
   * @param array<string, mixed> $payload
   *   The payload without companyId.
   *
   * @throws \Drupal\trading_grid\Sync\InvalidPayloadException
   */
  private function op(UserInterface $user, string $op, array $payload): OutboundOp {
    $uid = (string) $user->id();
    $company = $this->links->get('user', $uid, 'partner')['remoteId'] ?? NULL;
    $payload = ['companyId' => is_string($company) && $company !== '' ? $company : ExternalId::pendingRemote('partner', 'user', $uid)] + $payload;
    $this->payloads->validate($op, $payload);
    return new OutboundOp($op, $payload, 'network_user:' . ExternalId::of($user), self::FLOW, 'user', $uid);
  }

  /**
   * The network user's id, or a placeholder filled in once its create is answered.
   */
  private function userId(UserInterface $user): string {
    $remote = $this->links->get('user', (string) $user->id(), self::FLOW)['remoteId'] ?? NULL;
    return is_string($remote) && $remote !== '' ? $remote : ExternalId::pendingRemote(self::FLOW, 'user', (string) $user->id());
  }

  /**
   * Whether the account has a network user: NONE, PENDING or EXISTS.
   *
   * Only an id makes it exist. A create refused before it was queued (validation),
   * dead-lettered, or withdrawn leaves none, so the next activation queues a create
   * again instead of addressing a user that was never made.
   */
  public function state(UserInterface $user): string {
    $link = $this->links->get('user', (string) $user->id(), self::FLOW);
    if ($link === NULL || in_array($link['status'], [LinkStore::WITHDRAWN, LinkStore::DEAD], TRUE)) {
      return self::NONE;
    }
    if (is_string($link['remoteId'] ?? NULL) && $link['remoteId'] !== '') {
      return self::EXISTS;
    }
    $refused = $link['status'] === LinkStore::FAILED && str_starts_with((string) ($link['lastError'] ?? ''), OutboxWriter::INVALID);
    return $refused ? self::NONE : self::PENDING;
  }

  /**
   * Forgets the account's network user: it is gone from the network.
   */
  public function forget(UserInterface $user): void {
    $this->links->delete('user', (string) $user->id(), self::FLOW);
    $this->userData->delete('trading_grid', (int) $user->id(), 'network_roles');
  }

  /**
   * The network roles given to the account's user.
   *
   * @return string[]
   *   Role names.
   */
  private function given(UserInterface $user): array {
    $roles = $this->userData->get('trading_grid', (int) $user->id(), 'network_roles');
    return is_array($roles) ? array_values(array_filter($roles, 'is_string')) : [];
  }

}
