<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Kernel;

use Drupal\user\Entity\User;

/**
 * An active member gets a network user of its partner company with the configured
 * role; the user follows the account and goes with it.
 *
 * @group trading_grid
 */
final class NetworkUsersTest extends TradingGridKernelTestBase {

  /**
   * {@inheritdoc}
   */
  protected static $modules = ['trading_grid_test'];

  /**
   * {@inheritdoc}
   */
  protected function setUp(): void {
    parent::setUp();
    $this->config('trading_grid.settings')->set('network_user_role', 'Partner User')->save();
  }

  /**
   * Stores a membership event in the inbox and handles it.
   */
  private function membership(string $uid, string $status, string $community = 'logistics-eu'): void {
    $id = 'evt_' . $uid . '_' . $status . '_' . $community;
    $this->container->get('trading_grid.inbox')->store($id, 'membership.changed', [
      'id' => $id,
      'type' => 'membership.changed',
      'data' => ['externalId' => 'drupal-user-' . $uid, 'communityId' => $community, 'status' => $status],
    ], 'test');
    $this->container->get('trading_grid.delivery')->handleEvents(5.0, 'test');
  }

  /**
   * The payloads of one op of an account, oldest first.
   *
   * @return list<array<string, mixed>>
   *   Payloads.
   */
  private function payloads(string $uid, string $op): array {
    return array_column($this->outboxRows('user', $uid, $op), 'payload');
  }

  /**
   * Active: the user (once) and its role, on a key of their own, with the company
   * id filled in at send time; a new e-mail follows by the stored user id; an
   * ended membership takes the role; deleting the account deletes the user first.
   */
  public function testANetworkUserFollowsTheMembershipAndTheAccount(): void {
    $partner = $this->createPartner('Acme Freight', ['name' => 'Ada Lovelace King', 'mail' => 'ada@acme.example']);
    $uid = (string) $partner->id();
    $this->assertSame([], $this->payloads($uid, 'company_user.create'), 'nobody gets a network user before approval');

    $this->membership($uid, 'active');
    $create = $this->payloads($uid, 'company_user.create');
    $this->assertCount(1, $create);
    $this->assertSame([
      'companyId' => 'ref:partner:user:' . $uid,
      'user' => [
        'loginId' => 'ada@acme.example',
        'firstName' => 'Ada',
        'lastName' => 'Lovelace King',
        'type' => 'Web',
        'contactInformation' => ['email' => 'ada@acme.example'],
        'preferredLanguage' => 'en',
      ],
    ], $create[0]);
    $this->assertArrayNotHasKey('loginPassword', $create[0]['user'], 'no password is ever queued');
    $roles = $this->payloads($uid, 'company_user.roles');
    $this->assertSame([['roleName' => 'Partner User']], $roles[0]['roles']);
    $this->assertSame('add', $roles[0]['action']);
    $rows = array_merge($this->outboxRows('user', $uid, 'company_user.create'), $this->outboxRows('user', $uid, 'company_user.roles'));
    $this->assertSame(['network_user:drupal-user-' . $uid], array_values(array_unique(array_column($rows, 'orderingKey'))), 'in order, on a key of their own');
    $this->assertSame(['network_user'], array_values(array_unique(array_column($rows, 'flow'))));

    // A second community becoming active changes nothing more.
    $this->membership($uid, 'active', 'suppliers-global');
    $this->assertCount(1, $this->payloads($uid, 'company_user.create'));
    $this->assertCount(1, $this->payloads($uid, 'company_user.roles'));

    $account = User::load($uid);
    $account->setEmail('ada.king@acme.example')->save();
    $update = $this->payloads($uid, 'company_user.update');
    $this->assertSame([[
      'companyId' => 'ref:partner:user:' . $uid,
      'userId' => 'ref:network_user:user:' . $uid,
      'changes' => ['loginId' => 'ada.king@acme.example', 'contactInformation' => ['email' => 'ada.king@acme.example']],
    ]], $update);

    // The setting is renamed meanwhile: the role that was given is the one taken.
    $this->config('trading_grid.settings')->set('network_user_role', 'Partner Admin')->save();
    $this->membership($uid, 'suspended');
    $roles = $this->payloads($uid, 'company_user.roles');
    $this->assertCount(2, $roles);
    $this->assertSame(['loginId' => 'ada.king@acme.example', 'action' => 'remove', 'roles' => [['roleName' => 'Partner User']]],
      array_intersect_key($roles[1], ['loginId' => 1, 'action' => 1, 'roles' => 1]));
    $this->config('trading_grid.settings')->set('network_user_role', 'Partner User')->save();

    User::load($uid)->delete();
    $ops = array_column($this->outboxRows('user', $uid), 'op');
    $this->assertContains('company_user.delete', $ops);
    $this->assertContains('partner.delete', $ops);
    $this->assertLessThan(array_search('partner.delete', $ops, TRUE), array_search('company_user.delete', $ops, TRUE), 'the user is queued before its company (on another key: a delete of a user already gone with its company is done, not dead)');
  }

  /**
   * A create that was dead-lettered leaves no network user: the next activation
   * asks for one again instead of giving a role to a user that was never made, and
   * the same change is written again by a worker that already wrote it once.
   */
  public function testADeadCreateIsAskedForAgain(): void {
    $partner = $this->createPartner('Acme Freight');
    $uid = (string) $partner->id();
    $this->membership($uid, 'active');
    $this->assertCount(1, $this->payloads($uid, 'company_user.create'));
    $this->container->get('trading_grid.link_store')->record('user', $uid, 'network_user', 'dead', NULL, 'conflict: loginId taken', 'company_user.create');
    $users = $this->container->get('trading_grid.network_users');
    $this->assertSame('none', $users->state(User::load($uid)));

    $this->membership($uid, 'suspended');
    $this->assertCount(1, $this->payloads($uid, 'company_user.roles'), 'no role taken from a user that does not exist');
    $this->membership($uid, 'active', 'suppliers-global');
    $this->assertCount(2, $this->payloads($uid, 'company_user.create'), 'asked for again');
    $this->assertCount(2, $this->payloads($uid, 'company_user.roles'), 'the same role add, written again');
    $this->assertSame('pending', $users->state(User::load($uid)));
  }

  /**
   * With no network role configured, memberships touch no network user.
   */
  public function testWithoutARoleNoNetworkUserIsManaged(): void {
    $this->config('trading_grid.settings')->set('network_user_role', '')->save();
    $partner = $this->createPartner('Acme Freight');
    $this->membership((string) $partner->id(), 'active');
    $this->assertSame([], $this->payloads((string) $partner->id(), 'company_user.create'));
    $this->assertSame([], $this->payloads((string) $partner->id(), 'company_user.roles'));
  }

}
