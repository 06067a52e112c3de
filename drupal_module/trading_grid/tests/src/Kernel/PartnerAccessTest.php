<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Kernel;

use Drupal\node\Entity\Node;
use Drupal\user\Entity\Role;
use Drupal\user\UserInterface;

/**
 * A partner reaches its own organisation's issues and the documents addressed to
 * it, and nothing else: in entity access and in the route access checks.
 *
 * @group trading_grid
 */
final class PartnerAccessTest extends TradingGridKernelTestBase {

  /**
   * {@inheritdoc}
   */
  protected function setUp(): void {
    parent::setUp();
    Role::create(['id' => 'staff', 'label' => 'Staff'])->grantPermission('administer trading grid')->grantPermission('access content')->save();
  }

  /**
   * A partner with the partner role.
   */
  private function partner(string $organisation, string $type = 'carrier'): UserInterface {
    return $this->createPartner($organisation, ['roles' => ['trading_partner'], 'field_tg_partner_type' => $type]);
  }

  /**
   * Partner A cannot view or open partner B's issue; B and the staff can.
   */
  public function testPartnerSeesOnlyOwnOrganisationIssues(): void {
    $a = $this->partner('Alpha Logistics');
    $b = $this->partner('Beta Freight');
    $b2 = $this->partner('Beta Freight');
    $staff = $this->createPartner('Head office', ['roles' => ['staff']]);
    $issue = $this->createIssue($b);

    $this->assertFalse($issue->access('view', $a), 'another organisation cannot view the issue');
    $this->assertTrue($issue->access('view', $b));
    $this->assertTrue($issue->access('view', $b2), 'a colleague of the same organisation can');
    $this->assertTrue($issue->access('view', $staff));
    $this->assertFalse($issue->access('update', $b), 'partners change issues only through the partner pages');

    $check = $this->container->get('trading_grid.access.organisation');
    $this->assertTrue($check->access($issue, $a)->isForbidden());
    $this->assertTrue($check->access($issue, $b)->isAllowed());
    $this->assertTrue($check->access($issue, $staff)->isAllowed());
  }

  /**
   * An account without an organisation gets no partner pages.
   */
  public function testAccountWithoutOrganisationIsNoPartner(): void {
    $check = $this->container->get('trading_grid.access.partner');
    $this->assertTrue($check->access($this->partner('Alpha Logistics'))->isAllowed());
    $this->assertFalse($check->access(\Drupal\user\Entity\User::load(1))->isAllowed());
  }

  /**
   * Documents reach the partner types and organisations they are addressed to.
   */
  public function testDocumentsReachTheirAudienceOnly(): void {
    $carrier = $this->partner('Alpha Logistics', 'carrier');
    $supplier = $this->partner('Gamma Parts', 'supplier');
    $document = Node::create([
      'type' => 'trading_grid_document',
      'title' => 'Loading SOP',
      'status' => 1,
      'field_tg_approved' => TRUE,
      'field_tg_partner_types' => ['carrier'],
    ]);
    $document->save();
    $this->assertTrue($document->access('view', $carrier));
    $this->assertFalse($document->access('view', $supplier));

    $private = Node::create([
      'type' => 'trading_grid_document',
      'title' => 'Alpha rate card',
      'status' => 1,
      'field_tg_approved' => TRUE,
      'field_tg_partner_types' => ['carrier', 'supplier'],
      'field_tg_organisation' => 'Gamma Parts',
    ]);
    $private->save();
    $this->assertTrue($private->access('view', $supplier));
    $this->assertFalse($private->access('view', $carrier), 'addressed to another organisation');
  }

}
