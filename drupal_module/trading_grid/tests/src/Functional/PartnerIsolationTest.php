<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Functional;

use Drupal\node\Entity\Node;
use Drupal\node\NodeInterface;
use Drupal\Tests\BrowserTestBase;
use Drupal\user\UserInterface;

/**
 * Partner isolation, end to end: a partner of organisation A reaches nothing of
 * organisation B (its trading issues, documents, status pages, account details)
 * by any URL or listing, an applicant reaches nothing of the organisation it
 * named, and a Trading Grid administrator sees both organisations.
 *
 * @group trading_grid
 */
final class PartnerIsolationTest extends BrowserTestBase {

  /**
   * {@inheritdoc}
   *
   * Views brings the front page listing (/node), a node listing that relies on
   * the node access grants alone.
   */
  protected static $modules = ['trading_grid', 'views'];

  /**
   * {@inheritdoc}
   */
  protected $defaultTheme = 'stark';

  /**
   * A partner of organisation A.
   */
  private UserInterface $alpha;

  /**
   * A partner of organisation B.
   */
  private UserInterface $beta;

  /**
   * An applicant who named organisation B (membership pending).
   */
  private UserInterface $applicant;

  /**
   * A Trading Grid administrator (not a bypass-node-access superuser).
   */
  private UserInterface $admin;

  /**
   * The trading issues, by organisation.
   *
   * @var array<string, \Drupal\node\NodeInterface>
   */
  private array $issues = [];

  /**
   * The document addressed to organisation B only.
   */
  private NodeInterface $betaDocument;

  /**
   * {@inheritdoc}
   */
  protected function setUp(): void {
    parent::setUp();
    // Enabling a module with node access grants only flags a rebuild; until it
    // runs, Drupal's "view all" record keeps listings unfiltered (as on a site
    // whose administrator has not rebuilt content access yet).
    node_access_rebuild();
    $this->alpha = $this->partner('Alpha Logistics', 'carrier');
    $this->beta = $this->partner('Beta Freight', 'supplier');
    $this->applicant = $this->partner('Beta Freight', 'supplier', 'pending');
    $this->admin = $this->drupalCreateUser([
      'access content',
      'administer trading grid',
      'administer users',
      'access user profiles',
      'view own organisation trading issues',
      'access trading grid partner portal',
    ]);
    $this->issues['alpha'] = $this->issue($this->alpha, 'Alpha pallet count short');
    $this->issues['beta'] = $this->issue($this->beta, 'Beta invoice paid short');
    $this->betaDocument = Node::create([
      'type' => 'trading_grid_document',
      'title' => 'Beta confidential rate card',
      'status' => 1,
      'promote' => 1,
      'field_tg_approved' => TRUE,
      'field_tg_organisation' => 'Beta Freight',
    ]);
    $this->betaDocument->save();
  }

  /**
   * A partner account: the trading partner's permissions and its organisation.
   */
  private function partner(string $organisation, string $type, string $status = 'active'): UserInterface {
    return $this->drupalCreateUser([
      'access content',
      'access trading grid partner portal',
      'raise trading issues',
      'view own organisation trading issues',
      // Profiles are readable, so that partner details are shown to nobody
      // but the account itself by field access, not by a missing permission.
      'access user profiles',
    ], NULL, FALSE, [
      'field_tg_organisation' => $organisation,
      'field_tg_partner_type' => $type,
      'field_tg_country' => 'DE',
      'field_tg_membership_status' => $status,
    ]);
  }

  /**
   * A trading issue of a partner's organisation, promoted to the front page.
   */
  private function issue(UserInterface $owner, string $title): NodeInterface {
    $node = Node::create([
      'type' => 'trading_grid_issue',
      'title' => $title,
      'uid' => $owner->id(),
      'status' => 1,
      'promote' => 1,
      'field_tg_issue_type' => 'invoice_dispute',
      'field_tg_priority' => 'normal',
      'field_tg_issue_status' => 'open',
      'field_tg_invoice_number' => 'INV-7',
      'field_tg_description' => 'Paid 10% short.',
      'field_tg_organisation' => $owner->get('field_tg_organisation')->value,
    ]);
    $node->save();
    return $node;
  }

  /**
   * Asserts the status code of each path.
   *
   * @param array<string, int> $expected
   *   Path => status code.
   */
  private function assertStatusCodes(array $expected): void {
    foreach ($expected as $path => $code) {
      $this->drupalGet($path);
      $this->assertSame($code, $this->getSession()->getStatusCode(), $path);
    }
  }

  /**
   * Partner A gets 403 on everything of B, by every URL, and no listing shows
   * any of it; its own issue is there.
   */
  public function testPartnerReachesNothingOfAnotherOrganisation(): void {
    $beta = $this->issues['beta']->id();
    $alpha = $this->issues['alpha']->id();
    $document = $this->betaDocument->id();
    $this->drupalLogin($this->alpha);
    $this->assertStatusCodes([
      "node/$beta" => 403,
      "partner/issues/$beta" => 403,
      "node/$beta/trading-grid" => 403,
      "node/$beta/edit" => 403,
      "node/$document" => 403,
      "node/$document/trading-grid" => 403,
      'user/' . $this->beta->id() . '/trading-grid' => 403,
      "node/$alpha" => 200,
      "partner/issues/$alpha" => 200,
    ]);

    foreach (['node', 'partner/issues', 'partner/documents', 'rss.xml'] as $listing) {
      $this->drupalGet($listing);
      $this->assertSession()->statusCodeEquals(200);
      $this->assertSession()->responseNotContains('Beta invoice paid short');
      $this->assertSession()->responseNotContains('Beta confidential rate card');
    }
    $this->drupalGet('node');
    $this->assertSession()->pageTextContains('Alpha pallet count short');
    $this->drupalGet('partner/issues');
    $this->assertSession()->pageTextContains('Alpha pallet count short');

    // B's profile is readable (the permission is granted) but not its partner
    // details: organisation, partner type, country, membership.
    $this->drupalGet('user/' . $this->beta->id());
    $this->assertSession()->statusCodeEquals(200);
    $this->assertSession()->pageTextNotContains('Beta Freight');
    $this->drupalGet('user/' . $this->alpha->id());
    $this->assertSession()->pageTextContains('Alpha Logistics');
  }

  /**
   * An applicant that named B reaches nothing of B before it is active.
   */
  public function testApplicantReachesNothingOfTheOrganisationItNamed(): void {
    $this->drupalLogin($this->applicant);
    $this->assertStatusCodes([
      'node/' . $this->issues['beta']->id() => 403,
      'partner/issues/' . $this->issues['beta']->id() => 403,
      'node/' . $this->betaDocument->id() => 403,
      'partner/issues' => 403,
      'partner/documents' => 403,
      'partner/issues/raise' => 403,
      'partner/onboarding' => 200,
    ]);
    $this->drupalGet('node');
    $this->assertSession()->responseNotContains('Beta invoice paid short');
    $this->assertSession()->responseNotContains('Beta confidential rate card');
  }

  /**
   * B sees its own issue and document; the Trading Grid administrator sees
   * both organisations' everywhere.
   */
  public function testOwnOrganisationAndAdministratorSeeTheirs(): void {
    $this->drupalLogin($this->beta);
    $this->assertStatusCodes([
      'node/' . $this->issues['beta']->id() => 200,
      'node/' . $this->betaDocument->id() => 200,
      'node/' . $this->issues['alpha']->id() => 403,
    ]);
    $this->drupalGet('node');
    $this->assertSession()->pageTextContains('Beta invoice paid short');
    $this->assertSession()->pageTextContains('Beta confidential rate card');
    $this->assertSession()->responseNotContains('Alpha pallet count short');
    $this->drupalGet('partner/documents');
    $this->assertSession()->pageTextContains('Beta confidential rate card');

    $this->drupalLogin($this->admin);
    $expected = [];
    foreach ($this->issues as $issue) {
      $expected['node/' . $issue->id()] = 200;
      $expected['partner/issues/' . $issue->id()] = 200;
      $expected['node/' . $issue->id() . '/trading-grid'] = 200;
    }
    $expected['node/' . $this->betaDocument->id()] = 200;
    $expected['user/' . $this->beta->id() . '/trading-grid'] = 200;
    $this->assertStatusCodes($expected);
    $this->drupalGet('node');
    $this->assertSession()->pageTextContains('Alpha pallet count short');
    $this->assertSession()->pageTextContains('Beta invoice paid short');
    $this->assertSession()->pageTextContains('Beta confidential rate card');
    $this->drupalGet('user/' . $this->beta->id());
    $this->assertSession()->pageTextContains('Beta Freight');
  }

  /**
   * A partner cannot move itself into another organisation: the organisation
   * is not on its own account form once set; an administrator can change it.
   */
  public function testOrganisationCannotBeChangedByThePartner(): void {
    $this->drupalLogin($this->alpha);
    $this->drupalGet('user/' . $this->alpha->id() . '/edit');
    $this->assertSession()->statusCodeEquals(200);
    $this->assertSession()->fieldNotExists('field_tg_organisation[0][value]');
    $this->assertSession()->fieldExists('field_tg_country[0][value]');
    $this->submitForm(['field_tg_country[0][value]' => 'FR'], 'Save');
    $this->assertSession()->pageTextContains('The changes have been saved.');
    $account = $this->container->get('entity_type.manager')->getStorage('user')->loadUnchanged($this->alpha->id());
    $this->assertSame('Alpha Logistics', $account->get('field_tg_organisation')->value);
    $this->assertSame('FR', $account->get('field_tg_country')->value);

    $this->drupalLogin($this->admin);
    $this->drupalGet('user/' . $this->alpha->id() . '/edit');
    $this->assertSession()->fieldExists('field_tg_organisation[0][value]');
  }

}
