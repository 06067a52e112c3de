<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Kernel;

use Drupal\Core\Session\AccountInterface;
use Drupal\trading_grid\Access\UserFieldAccess;
use Drupal\user\Entity\Role;
use Drupal\user\Entity\User;
use Drupal\user\UserInterface;

/**
 * A partner cannot move itself to another organisation or edit what Trading
 * Grid decides about it, and nobody else reads its partner details.
 *
 * @group trading_grid
 */
final class UserFieldAccessTest extends TradingGridKernelTestBase {

  /**
   * {@inheritdoc}
   */
  protected static $modules = ['trading_grid_test'];

  /**
   * {@inheritdoc}
   */
  protected function setUp(): void {
    parent::setUp();
    Role::create(['id' => 'staff', 'label' => 'Staff'])->grantPermission('administer trading grid')->save();
    Role::create(['id' => 'people', 'label' => 'User administrators'])->grantPermission('administer users')->save();
  }

  /**
   * An active partner.
   */
  private function partner(string $organisation): UserInterface {
    return $this->createPartner($organisation, [
      'roles' => ['trading_partner'],
      'field_tg_membership_status' => 'active',
      'field_tg_trading_grid_id' => 'GC' . random_int(100000, 999999),
    ]);
  }

  /**
   * Whether an account may do an operation on a field of a user account.
   */
  private static function may(string $operation, UserInterface $user, string $field, AccountInterface $account): bool {
    return $user->get($field)->access($operation, $account);
  }

  /**
   * Once set, the organisation is changed by Trading Grid administrators only.
   */
  public function testOrganisationIsLockedOnceSet(): void {
    $partner = $this->partner('Alpha Logistics');
    $staff = $this->createPartner('Head office', ['roles' => ['staff']]);
    $people = $this->createPartner('Head office', ['roles' => ['people']]);
    $this->assertFalse(self::may('edit', $partner, UserFieldAccess::ORGANISATION, $partner), 'not on its own account');
    $this->assertFalse(self::may('edit', $partner, UserFieldAccess::ORGANISATION, $people), 'nor by a user administrator');
    $this->assertTrue(self::may('edit', $partner, UserFieldAccess::ORGANISATION, $staff));

    // Before it has a value, the account names its organisation itself: on
    // registration (a new account, anonymous) or on its first profile edit.
    $registering = User::create(['name' => 'newcomer', 'mail' => 'newcomer@example.com']);
    $this->assertTrue(self::may('edit', $registering, UserFieldAccess::ORGANISATION, User::getAnonymousUser()));
    $newcomer = $this->createPartner('', ['roles' => ['trading_partner']]);
    $this->assertTrue(self::may('edit', $newcomer, UserFieldAccess::ORGANISATION, $newcomer));
    $newcomer->set(UserFieldAccess::ORGANISATION, '  ')->save();
    $this->assertTrue(self::may('edit', $newcomer, UserFieldAccess::ORGANISATION, $newcomer), 'white space is no value');

    // The profile fields the partner keeps up to date stay editable.
    foreach (['field_tg_partner_type', 'field_tg_country', 'field_tg_communities'] as $field) {
      $this->assertTrue(self::may('edit', $partner, $field, $partner), $field);
    }
  }

  /**
   * What Trading Grid writes is never edited by the partner or a user admin.
   */
  public function testNetworkOwnedFieldsAreNotEditable(): void {
    $partner = $this->partner('Alpha Logistics');
    $staff = $this->createPartner('Head office', ['roles' => ['staff']]);
    $people = $this->createPartner('Head office', ['roles' => ['people']]);
    $handler = $this->container->get('entity_type.manager')->getAccessControlHandler('user');
    $definitions = $this->container->get('entity_field.manager')->getFieldDefinitions('user', 'user');
    foreach (UserFieldAccess::NETWORK_OWNED as $field) {
      $this->assertFalse(self::may('edit', $partner, $field, $partner), "$field on its own account");
      $this->assertFalse(self::may('edit', $partner, $field, $people), "$field by a user administrator");
      $this->assertTrue(self::may('edit', $partner, $field, $staff), "$field by a Trading Grid administrator");
      // Asked without a value (e.g. by a REST or JSON:API field check).
      $this->assertFalse($handler->fieldAccess('edit', $definitions[$field], $partner), "$field without items");
      $this->assertTrue($handler->fieldAccess('edit', $definitions[$field], $staff), "$field without items, staff");
    }
  }

  /**
   * Partner details are read on the account itself and by administrators.
   */
  public function testPartnerDetailsAreShownToTheAccountAndAdministratorsOnly(): void {
    $alpha = $this->partner('Alpha Logistics');
    $colleague = $this->partner('Alpha Logistics');
    $beta = $this->partner('Beta Freight');
    $staff = $this->createPartner('Head office', ['roles' => ['staff']]);
    $people = $this->createPartner('Head office', ['roles' => ['people']]);
    foreach (UserFieldAccess::PARTNER_FIELDS as $field) {
      $this->assertTrue(self::may('view', $alpha, $field, $alpha), "$field: own account");
      $this->assertFalse(self::may('view', $alpha, $field, $beta), "$field: another organisation");
      $this->assertFalse(self::may('view', $alpha, $field, $colleague), "$field: a colleague's account");
      $this->assertFalse(self::may('view', $alpha, $field, User::getAnonymousUser()), "$field: anonymous");
      $this->assertTrue(self::may('view', $alpha, $field, $staff), "$field: Trading Grid administrator");
      $this->assertTrue(self::may('view', $alpha, $field, $people), "$field: user administrator");
    }
    // Other fields of the account are none of this module's business.
    $this->assertTrue(self::may('view', $alpha, 'name', $beta));
  }

  /**
   * The network still writes its fields: field access binds forms and APIs,
   * not the module's own event handling.
   */
  public function testTheNetworkStillWritesItsFields(): void {
    $partner = $this->partner('Alpha Logistics');
    $this->receive($partner, 'membership.changed', ['status' => 'suspended', 'communityId' => 'logistics-eu']);
    $this->assertSame('suspended', User::load($partner->id())->get('field_tg_membership_status')->value);
  }

  /**
   * Hands one event to the event processor, as the inbox would.
   *
   * @param array<string, mixed> $data
   *   The event's data, without the partner's external id.
   */
  private function receive(UserInterface $partner, string $type, array $data): void {
    $this->container->get('trading_grid.event_processor')->handle([
      'id' => 'evt_' . bin2hex(random_bytes(6)),
      'type' => $type,
      'data' => $data + ['externalId' => 'drupal-user-' . $partner->id()],
    ]);
  }

}
