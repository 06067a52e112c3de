<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Functional;

use Drupal\node\Entity\Node;
use Drupal\node\NodeInterface;
use Drupal\Tests\BrowserTestBase;
use Drupal\user\UserInterface;

/**
 * Partners raise and follow their own organisation's trading issues, and cannot
 * open anybody else's, whatever URL they try.
 *
 * @group trading_grid
 */
final class PartnerIssuesTest extends BrowserTestBase {

  /**
   * {@inheritdoc}
   */
  protected static $modules = ['trading_grid'];

  /**
   * {@inheritdoc}
   */
  protected $defaultTheme = 'stark';

  /**
   * A partner user of an organisation, an active member of it.
   */
  private function partner(string $organisation, string $status = 'active'): UserInterface {
    return $this->drupalCreateUser([
      'access content',
      'access trading grid partner portal',
      'raise trading issues',
      'view own organisation trading issues',
    ], NULL, FALSE, [
      'field_tg_organisation' => $organisation,
      'field_tg_partner_type' => 'carrier',
      'field_tg_country' => 'DE',
      'field_tg_membership_status' => $status,
    ]);
  }

  /**
   * An issue of a partner's organisation.
   */
  private function issue(UserInterface $owner, string $title): NodeInterface {
    $node = Node::create([
      'type' => 'trading_grid_issue',
      'title' => $title,
      'uid' => $owner->id(),
      'status' => 1,
      'field_tg_issue_type' => 'missing_documentation',
      'field_tg_priority' => 'normal',
      'field_tg_issue_status' => 'open',
      'field_tg_description' => 'The certificate of conformity is missing.',
      'field_tg_organisation' => $owner->get('field_tg_organisation')->value,
    ]);
    $node->save();
    return $node;
  }

  /**
   * Partner A gets 403 on partner B's issue, by the partner page and the node.
   */
  public function testPartnerCannotOpenAnotherOrganisationsIssue(): void {
    $a = $this->partner('Alpha Logistics');
    $b = $this->partner('Beta Freight');
    $issue = $this->issue($b, 'Beta certificate missing');

    $this->drupalLogin($a);
    $this->drupalGet('partner/issues/' . $issue->id());
    $this->assertSession()->statusCodeEquals(403);
    $this->drupalGet('node/' . $issue->id());
    $this->assertSession()->statusCodeEquals(403);
    $this->drupalGet('partner/issues');
    $this->assertSession()->statusCodeEquals(200);
    $this->assertSession()->pageTextNotContains('Beta certificate missing');

    $this->drupalLogin($b);
    $this->drupalGet('partner/issues/' . $issue->id());
    $this->assertSession()->statusCodeEquals(200);
    $this->assertSession()->pageTextContains('Beta certificate missing');
    $this->assertSession()->pageTextContains('The certificate of conformity is missing.');
    $this->drupalGet('partner/issues');
    $this->assertSession()->pageTextContains('Beta certificate missing');
  }

  /**
   * Raising an issue creates the node and its issue.create outbox row.
   */
  public function testRaiseIssueFormWritesAnOutboxRow(): void {
    $partner = $this->partner('Alpha Logistics');
    $this->drupalLogin($partner);
    $this->drupalGet('partner/issues/raise');
    $this->assertSession()->statusCodeEquals(200);

    $this->submitForm([
      'type' => 'invoice_dispute',
      'title' => 'Short payment',
      'description' => 'Invoice INV-88 was paid 10% short.',
      'priority' => 'urgent',
    ], 'Raise issue');
    $this->assertSession()->pageTextContains('An invoice dispute needs the invoice number.');

    $this->submitForm([
      'type' => 'invoice_dispute',
      'title' => 'Short payment',
      'invoice' => 'INV-88',
      'purchase_order' => 'PO-1',
      'description' => 'Invoice INV-88 was paid 10% short.',
      'priority' => 'urgent',
    ], 'Raise issue');
    $this->assertSession()->pageTextContains('Your trading issue was raised');
    $this->assertSession()->pageTextContains('Short payment');

    $ids = \Drupal::entityQuery('node')->accessCheck(FALSE)->condition('type', 'trading_grid_issue')->execute();
    $this->assertCount(1, $ids);
    $issue = Node::load(reset($ids));
    $this->assertSame('Alpha Logistics', $issue->get('field_tg_organisation')->value);
    $this->assertSame((string) $partner->id(), (string) $issue->getOwnerId());

    $rows = $this->container->get('trading_grid.outbox')->list(['op' => 'issue.create', 'entityType' => 'node', 'entityId' => (string) $issue->id()]);
    $link = $this->container->get('trading_grid.link_store')->get('node', (string) $issue->id(), 'issue');
    // Delivered right after the response only where the extension is configured;
    // otherwise it waits in the outbox. Either way it was written.
    $this->assertTrue($rows !== [] || ($link !== NULL && $link['status'] === 'synced'), 'issue.create was written to the outbox');
    if ($rows !== []) {
      $this->assertSame('INV-88', $rows[0]['payload']['references']['invoice']);
      $this->assertSame('urgent', $rows[0]['payload']['priority']);
      $this->assertSame('drupal-user-' . $partner->id(), $rows[0]['payload']['partnerExternalId']);
    }
  }

  /**
   * A comment posted on the issue page is on the timeline and in the outbox.
   */
  public function testCommentOnOwnIssue(): void {
    $partner = $this->partner('Alpha Logistics');
    $issue = $this->issue($partner, 'Certificate missing');
    $this->drupalLogin($partner);
    $this->drupalGet('partner/issues/' . $issue->id());
    $this->submitForm(['body' => 'Attached the certificate now.'], 'Post comment');
    $this->assertSession()->pageTextContains('Your comment was added');
    $this->assertSession()->pageTextContains('Attached the certificate now.');
    $rows = $this->container->get('trading_grid.outbox')->list(['op' => 'issue.comment']);
    $this->assertCount(1, $rows);
    $this->assertSame('Attached the certificate now.', $rows[0]['payload']['body']);
  }

  /**
   * An account without an organisation has no partner pages.
   */
  public function testAccountWithoutOrganisationGets403(): void {
    $this->drupalLogin($this->drupalCreateUser(['raise trading issues', 'view own organisation trading issues', 'access trading grid partner portal']));
    foreach (['partner/issues', 'partner/issues/raise', 'partner/onboarding', 'partner/documents'] as $path) {
      $this->drupalGet($path);
      $this->assertSession()->statusCodeEquals(403);
    }
  }

  /**
   * The onboarding page shows the progress and the next step.
   */
  public function testOnboardingJourneyShowsNextStep(): void {
    $this->drupalLogin($this->partner('Alpha Logistics'));
    $this->drupalGet('partner/onboarding');
    $this->assertSession()->statusCodeEquals(200);
    $this->assertSession()->pageTextContains('Next step: Complete the Trading Grid training');
  }

  /**
   * An applicant (membership pending) follows its onboarding, and reaches no
   * page of the organisation it named until Trading Grid makes it active.
   */
  public function testApplicantHasOnlyItsOnboarding(): void {
    $this->drupalLogin($this->partner('Alpha Logistics', 'pending'));
    $this->drupalGet('partner/onboarding');
    $this->assertSession()->statusCodeEquals(200);
    foreach (['partner/issues', 'partner/issues/raise', 'partner/documents'] as $path) {
      $this->drupalGet($path);
      $this->assertSession()->statusCodeEquals(403);
    }
  }

}
