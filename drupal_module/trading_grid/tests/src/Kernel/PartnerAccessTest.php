<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Kernel;

use Drupal\node\Entity\Node;
use Drupal\user\Entity\Role;
use Drupal\user\Entity\User;
use Drupal\user\UserInterface;
use Symfony\Component\Routing\Route;

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
   * A partner with the partner role, an active member of its organisation.
   */
  private function partner(string $organisation, string $type = 'carrier', string $status = 'active'): UserInterface {
    return $this->createPartner($organisation, [
      'roles' => ['trading_partner'],
      'field_tg_partner_type' => $type,
      'field_tg_membership_status' => $status,
    ]);
  }

  /**
   * A route with the _trading_grid_partner requirement.
   */
  private static function partnerRoute(string $value): Route {
    return new Route('/partner/test', [], ['_trading_grid_partner' => $value]);
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
    $this->assertTrue($check->access(self::partnerRoute('TRUE'), $this->partner('Alpha Logistics'))->isAllowed());
    $this->assertFalse($check->access(self::partnerRoute('TRUE'), User::load(1))->isAllowed());
    $this->assertFalse($check->access(self::partnerRoute('applicant'), User::load(1))->isAllowed());
  }

  /**
   * Until Trading Grid makes its membership active (and once it is suspended,
   * removed or rejected), an account that names an organisation reaches none
   * of its issues and documents; its own onboarding page stays open.
   */
  public function testOnlyActiveMembersReachTheirOrganisation(): void {
    $active = $this->partner('Beta Freight');
    $issue = $this->createIssue($active);
    $document = Node::create([
      'type' => 'trading_grid_document',
      'title' => 'Beta rate card',
      'status' => 1,
      'field_tg_organisation' => 'Beta Freight',
    ]);
    $document->save();
    $context = $this->container->get('trading_grid.partner_context');
    $check = $this->container->get('trading_grid.access.partner');
    $this->assertSame('Beta Freight', $context->organisation($active));
    $this->assertTrue($issue->access('view', $active));
    $this->assertTrue($document->access('view', $active));

    foreach (['pending', 'suspended', 'removed', 'rejected', ''] as $status) {
      $other = $this->partner('Beta Freight', 'carrier', $status);
      $this->assertSame('', $context->organisation($other), "membership '$status'");
      $this->assertSame('Beta Freight', $context->declaredOrganisation($other), "membership '$status'");
      $this->assertSame('', $context->partnerType($other), "membership '$status'");
      $this->assertSame([], $context->communities($other), "membership '$status'");
      $this->assertFalse($issue->access('view', $other), "membership '$status' cannot view the issue");
      $this->assertFalse($document->access('view', $other), "membership '$status' cannot view the document");
      $this->assertTrue($check->access(self::partnerRoute('TRUE'), $other)->isForbidden(), "membership '$status'");
      $this->assertTrue($check->access(self::partnerRoute('applicant'), $other)->isAllowed(), "membership '$status' keeps its onboarding");
      $this->assertTrue($this->container->get('trading_grid.access.organisation')->access($issue, $other)->isForbidden());
    }

    // A suspension takes effect at once, without a content access rebuild.
    $active->set('field_tg_membership_status', 'suspended')->save();
    $this->container->get('entity_type.manager')->getAccessControlHandler('node')->resetCache();
    $this->assertFalse($issue->access('view', $active));
    $this->assertFalse($document->access('view', $active));
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
