<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Kernel;

use Drupal\node\Entity\Node;
use Drupal\trading_grid\Store\LinkStore;
use Drupal\user\Entity\User;

/**
 * Entity hooks write outbox rows in the entity's transaction, and send nothing.
 *
 * None of this needs the trading_grid extension: the outbox path is plain PHP.
 *
 * @group trading_grid
 */
final class EntityHooksOutboxTest extends TradingGridKernelTestBase {

  /**
   * A partner account becomes partner.upsert, an access request and a step.
   */
  public function testPartnerSaveWritesUpsertAccessRequestAndProfileStep(): void {
    $user = $this->createPartner('Acme Freight');
    $ops = $this->outboxOps('user', (string) $user->id());
    $this->assertSame(['partner.upsert', 'access_request.create', 'onboarding.step'], $ops);

    $upsert = $this->outboxRows('user', (string) $user->id(), 'partner.upsert')[0];
    $this->assertSame('partner:drupal-user-' . $user->id(), $upsert['orderingKey']);
    $this->assertSame('partner', $upsert['flow']);
    $this->assertSame('drupal-user-' . $user->id(), $upsert['payload']['externalId']);
    $this->assertSame('Acme Freight', $upsert['payload']['companyName']);
    $this->assertSame('carrier', $upsert['payload']['partnerType']);
    $this->assertSame(['logistics-eu'], $upsert['payload']['communities']);

    $access = $this->outboxRows('user', (string) $user->id(), 'access_request.create')[0];
    $this->assertSame('logistics-eu', $access['payload']['communityId']);
    $this->assertSame('ref:partner:user:' . $user->id(), $access['payload']['partnerId'], 'the partner id is filled in once the upsert is answered');

    $user = User::load($user->id());
    $this->assertSame(['company-profile'], array_column($user->get('field_tg_onboarding_done')->getValue(), 'value'));
    $link = $this->container->get('trading_grid.link_store')->get('user', (string) $user->id(), 'partner');
    $this->assertSame(LinkStore::QUEUED, $link['status']);
  }

  /**
   * Successive saves of one account coalesce into one waiting row.
   *
   * The first save queued upsert, access request and onboarding step on the
   * partner's key; the next two saves share one new upsert row behind them.
   */
  public function testSuccessiveSavesCoalesce(): void {
    $user = $this->createPartner('Acme Freight');
    $user->set('field_tg_organisation', 'Acme Freight GmbH')->save();
    $user->set('field_tg_country', 'AT')->save();
    $rows = $this->outboxRows('user', (string) $user->id(), 'partner.upsert');
    $this->assertCount(2, $rows);
    $this->assertSame('Acme Freight', $rows[0]['payload']['companyName']);
    $this->assertSame('Acme Freight GmbH', $rows[1]['payload']['companyName']);
    $this->assertSame('AT', $rows[1]['payload']['country']);
    $this->assertSame(1, $rows[1]['coalesced']);
  }

  /**
   * An account without an organisation is not a partner.
   */
  public function testAccountWithoutOrganisationWritesNothing(): void {
    $user = User::create(['name' => 'editor', 'mail' => 'editor@example.com', 'status' => 1]);
    $user->save();
    $this->assertSame([], $this->outboxOps('user', (string) $user->id()));
  }

  /**
   * A rolled back save leaves no outbox row: one transaction for both.
   */
  public function testRolledBackSaveLeavesNoOutboxRow(): void {
    $database = $this->container->get('database');
    $transaction = $database->startTransaction();
    $user = $this->createPartner('Rollback Logistics');
    $id = (string) $user->id();
    $this->assertNotSame([], $this->outboxOps('user', $id), 'the row is visible inside the transaction');
    $transaction->rollBack();
    unset($transaction);
    $this->assertSame([], $this->outboxOps('user', $id));
    $this->assertSame(0, $this->container->get('trading_grid.outbox')->count());
  }

  /**
   * Only a published and approved document is published; unpublishing retracts.
   */
  public function testDocumentIsPublishedOnlyWhenPublishedAndApproved(): void {
    $document = Node::create([
      'type' => 'trading_grid_document',
      'title' => 'Loading SOP',
      'status' => 1,
      'field_tg_approved' => FALSE,
      'field_tg_version' => 1,
      'field_tg_partner_types' => ['carrier'],
      'field_tg_description' => 'Load from the rear.',
    ]);
    $document->save();
    $id = (string) $document->id();
    $this->assertSame([], $this->outboxOps('node', $id), 'an unapproved document never leaves');

    $document->set('field_tg_approved', TRUE)->save();
    $rows = $this->outboxRows('node', $id, 'document.publish');
    $this->assertCount(1, $rows);
    $this->assertSame('drupal-node-' . $id, $rows[0]['payload']['documentId']);
    $this->assertSame(1, $rows[0]['payload']['version']);
    $this->assertTrue($rows[0]['payload']['approved']);
    $this->assertSame(['carrier'], $rows[0]['payload']['audiences']['partnerTypes']);
    $this->assertMatchesRegularExpression('/^[0-9a-f]{64}$/', $rows[0]['payload']['sha256']);

    $document->setUnpublished()->save();
    $this->assertSame(['document.publish', 'document.retract'], $this->outboxOps('node', $id));
  }

  /**
   * Changed content of a published document becomes the next version.
   */
  public function testChangedPublishedDocumentBecomesNewVersion(): void {
    $document = Node::create([
      'type' => 'trading_grid_document',
      'title' => 'Loading SOP',
      'status' => 1,
      'field_tg_approved' => TRUE,
      'field_tg_version' => 1,
      'field_tg_communities' => ['logistics-eu'],
      'field_tg_description' => 'Load from the rear.',
    ]);
    $document->save();
    $document = Node::load($document->id());
    $document->set('field_tg_description', 'Load from the side.')->save();
    $this->assertSame(2, (int) Node::load($document->id())->get('field_tg_version')->value);
    $rows = $this->outboxRows('node', (string) $document->id(), 'document.publish');
    $this->assertSame(2, end($rows)['payload']['version']);

    // Saved again without a change the network would see: nothing new.
    $before = count($this->container->get('trading_grid.outbox')->list([], 100));
    Node::load($document->id())->save();
    $this->assertSame(2, (int) Node::load($document->id())->get('field_tg_version')->value);
    $this->assertCount($before, $this->container->get('trading_grid.outbox')->list([], 100));
  }

  /**
   * A trading issue is created once; a status change is sent as issue.status.
   */
  public function testIssueCreateThenStatusChange(): void {
    $partner = $this->createPartner('Acme Freight');
    $issue = $this->createIssue($partner);
    $id = (string) $issue->id();
    $create = $this->outboxRows('node', $id, 'issue.create')[0];
    $this->assertSame('issue:drupal-node-' . $id, $create['orderingKey']);
    $this->assertSame('invoice_dispute', $create['payload']['type']);
    $this->assertSame('INV-88', $create['payload']['references']['invoice']);
    $this->assertSame('drupal-user-' . $partner->id(), $create['payload']['partnerExternalId']);

    $issue->set('field_tg_issue_status', 'resolved')->set('field_tg_resolution', 'Credit note CN-5')->save();
    $status = $this->outboxRows('node', $id, 'issue.status')[0];
    $this->assertSame('resolved', $status['payload']['status']);
    $this->assertSame('Credit note CN-5', $status['payload']['resolution']);
    $this->assertSame('ref:issue:node:' . $id, $status['payload']['issueId']);
  }

  /**
   * A published catalog item is upserted; unpublished it is withdrawn.
   */
  public function testCatalogItemUpsertAndWithdraw(): void {
    $item = Node::create([
      'type' => 'trading_grid_catalog_item',
      'title' => 'Pallet spec',
      'status' => 1,
      'field_tg_sku' => '9',
      'field_tg_catalog_kind' => 'specification',
      'field_tg_partner_types' => ['supplier'],
    ]);
    $item->save();
    $item->setUnpublished()->save();
    $this->assertSame(['catalog.upsert', 'catalog.withdraw'], $this->outboxOps('node', (string) $item->id()));
  }

  /**
   * Deleting a sent document retracts it.
   */
  public function testDeletedDocumentIsRetracted(): void {
    $document = Node::create([
      'type' => 'trading_grid_document',
      'title' => 'Code of conduct',
      'status' => 1,
      'field_tg_approved' => TRUE,
      'field_tg_document_id' => 'coc',
      'field_tg_partner_types' => ['supplier'],
    ]);
    $document->save();
    $id = (string) $document->id();
    $document->delete();
    $rows = $this->outboxRows('node', $id);
    $this->assertSame(['document.publish', 'document.retract'], array_column($rows, 'op'));
    $this->assertSame('coc', $rows[1]['payload']['documentId']);
  }

  /**
   * With the extension, a payload that does not validate is recorded, not sent.
   */
  public function testInvalidPayloadIsRecordedNotEnqueued(): void {
    if (!class_exists('\TradingGrid\Mapper')) {
      $this->markTestSkipped('Needs the trading_grid PHP extension: \TradingGrid\Mapper validates payloads.');
    }
    // Two characters, as the field stores at most (MySQL refuses longer values),
    // but no ISO 3166-1 code even after the mapping's uppercase transform.
    $user = $this->createPartner('Nowhere Ltd', ['field_tg_country' => 'x9']);
    $this->assertNotContains('partner.upsert', $this->outboxOps('user', (string) $user->id()));
    $link = $this->container->get('trading_grid.link_store')->get('user', (string) $user->id(), 'partner');
    $this->assertSame(LinkStore::FAILED, $link['status']);
    $this->assertStringContainsString('country', $link['lastError']);
  }

}
