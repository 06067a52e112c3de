<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Kernel;

use Drupal\node\Entity\Node;
use Drupal\trading_grid_test\ScriptedNetwork;
use Drupal\user\Entity\User;

/**
 * Events from the inbox reach the flows' handlers, once, idempotently.
 *
 * @group trading_grid
 */
final class EventProcessorTest extends TradingGridKernelTestBase {

  /**
   * {@inheritdoc}
   */
  protected static $modules = ['trading_grid_test'];

  /**
   * Sequence for event ids.
   */
  private int $sequence = 0;

  /**
   * Stores an event in the inbox and handles what is due.
   *
   * @param array<string, mixed> $data
   *   The event data.
   */
  private function receive(string $type, array $data, ?string $id = NULL): string {
    $id ??= sprintf('evt_%012d', ++$this->sequence);
    $this->container->get('trading_grid.inbox')->store($id, $type, [
      'id' => $id,
      'type' => $type,
      'occurredAt' => gmdate('Y-m-d\TH:i:s\Z'),
      'data' => $data,
    ], 'test');
    $this->container->get('trading_grid.delivery')->handleEvents(5.0, 'test');
    return $id;
  }

  /**
   * Every event type of the contract has a handler of its flow.
   */
  public function testEveryContractEventTypeHasAHandler(): void {
    $contract = [
      'partner.created', 'partner.updated', 'partner.deleted', 'membership.changed',
      'access_request.created', 'access_request.changed',
      'issue.created', 'issue.comment_added', 'issue.status_changed',
      'document.published', 'document.superseded', 'document.retracted', 'document.accepted',
      'onboarding.training_completed', 'onboarding.acknowledged', 'onboarding.step_recorded',
      'catalog.published', 'catalog.withdrawn',
      'knowledge.published', 'announcement.published',
      'notification.dispute_overdue', 'notification.document_awaiting_approval', 'notification.partner_response', 'notification.posted',
    ];
    $handled = $this->container->get('trading_grid.event_processor')->handledTypes();
    $this->assertSame([], array_values(array_diff($contract, $handled)));
  }

  /**
   * The same event id is stored once.
   */
  public function testInboxStoresAnEventOnce(): void {
    $inbox = $this->container->get('trading_grid.inbox');
    $event = ['id' => 'evt_1', 'type' => 'partner.created', 'data' => []];
    $this->assertTrue($inbox->store('evt_1', 'partner.created', $event, 'webhook'));
    $this->assertFalse($inbox->store('evt_1', 'partner.created', $event, 'pull'));
    $this->assertSame(1, $inbox->count());
  }

  /**
   * An active membership grants the partner role and sets the status; a
   * suspension takes the role away. Nothing is sent back.
   */
  public function testMembershipStatusSetsRoleAndField(): void {
    $partner = $this->createPartner('Acme Freight');
    $uid = (string) $partner->id();
    $queued = count($this->outboxRows('user', $uid));

    $this->receive('membership.changed', ['externalId' => 'drupal-user-' . $uid, 'partnerId' => 'GC1', 'communityId' => 'logistics-eu', 'status' => 'active', 'previous' => 'pending']);
    $user = User::load($uid);
    $this->assertTrue($user->hasRole('trading_partner'));
    $this->assertSame('active', $user->get('field_tg_membership_status')->value);
    $this->assertCount($queued, $this->outboxRows('user', $uid), 'a network decision is not sent back');

    $this->receive('membership.changed', ['externalId' => 'drupal-user-' . $uid, 'communityId' => 'logistics-eu', 'status' => 'suspended']);
    $user = User::load($uid);
    $this->assertFalse($user->hasRole('trading_partner'));
    $this->assertSame('suspended', $user->get('field_tg_membership_status')->value);
  }

  /**
   * partner.created records the partner id on the account and in the link.
   */
  public function testPartnerCreatedRecordsPartnerId(): void {
    $partner = $this->createPartner('Acme Freight');
    $this->receive('partner.created', ['externalId' => 'drupal-user-' . $partner->id(), 'partnerId' => 'GC0000000007']);
    $this->assertSame('GC0000000007', User::load($partner->id())->get('field_tg_trading_grid_id')->value);
    $link = $this->container->get('trading_grid.link_store')->findByRemote('partner', 'GC0000000007');
    $this->assertSame((string) $partner->id(), $link['entityId']);
  }

  /**
   * Comments and status changes land on the issue's timeline once each, and a
   * network status change is not sent back as issue.status.
   */
  public function testIssueEventsBuildTheTimelineIdempotently(): void {
    $partner = $this->createPartner('Acme Freight');
    $issue = $this->createIssue($partner);
    $nid = (string) $issue->id();
    $external = 'drupal-node-' . $nid;

    $this->receive('issue.created', ['issueId' => 'TI1', 'externalId' => $external]);
    $comment = ['issueId' => 'TI1', 'externalId' => $external, 'origin' => 'network',
      'comment' => ['commentId' => 'CM1', 'author' => 'AP clerk', 'body' => 'Deduction was for damaged goods.', 'origin' => 'network']];
    $eventId = $this->receive('issue.comment_added', $comment);
    $this->receive('issue.status_changed', ['issueId' => 'TI1', 'externalId' => $external, 'from' => 'open', 'to' => 'awaiting_partner', 'origin' => 'network']);

    // The same event handled again (a replay) changes nothing.
    $this->container->get('trading_grid.event_processor')->handle(['id' => $eventId, 'type' => 'issue.comment_added', 'data' => $comment]);

    $issue = Node::load($nid);
    $this->assertSame('TI1', $issue->get('field_tg_remote_id')->value);
    $this->assertSame('awaiting_partner', $issue->get('field_tg_issue_status')->value);
    $entries = $this->container->get('trading_grid.issue_timeline')->entries($issue);
    $comments = array_values(array_filter($entries, static fn (array $e): bool => $e['kind'] === 'comment'));
    $this->assertCount(1, $comments);
    $this->assertSame('Deduction was for damaged goods.', $comments[0]['body']);
    $this->assertCount(1, array_filter($entries, static fn (array $e): bool => $e['kind'] === 'status'));
    $this->assertSame([], $this->outboxRows('node', $nid, 'issue.status'), 'a network status change is not sent back');
    $this->assertSame('TI1', $this->container->get('trading_grid.link_store')->get('node', $nid, 'issue')['remoteId']);
  }

  /**
   * A portal comment is on the timeline at once and marked delivered when the
   * network confirms it.
   */
  public function testPortalCommentIsConfirmedByItsEvent(): void {
    $partner = $this->createPartner('Acme Freight');
    $issue = $this->createIssue($partner);
    $external = $this->container->get('trading_grid.issue_timeline')->addPortalComment($issue, $partner, 'Please check the remittance.');
    $rows = $this->outboxRows('node', (string) $issue->id(), 'issue.comment');
    $this->assertCount(1, $rows);
    $this->assertSame($external, $rows[0]['payload']['externalId']);

    $this->receive('issue.comment_added', ['issueId' => 'TI1', 'externalId' => 'drupal-node-' . $issue->id(), 'origin' => 'portal',
      'comment' => ['commentId' => 'CM9', 'externalId' => $external, 'author' => $partner->getDisplayName(), 'body' => 'Please check the remittance.', 'origin' => 'portal']]);
    $entries = $this->container->get('trading_grid.issue_timeline')->entries(Node::load($issue->id()));
    $this->assertCount(1, $entries);
    $this->assertSame('delivered', $entries[0]['state']);
  }

  /**
   * Knowledge from the network becomes one published, tagged node per article.
   */
  public function testKnowledgeBecomesTaggedPublishedNode(): void {
    $this->container->get('state')->set(ScriptedNetwork::ARTICLES, ['KA1' => [
      'articleId' => 'KA1', 'kind' => 'resolution', 'title' => 'How to fix ASN mismatches',
      'body' => 'Resend the ASN with the corrected SSCC.', 'topic' => 'edi', 'region' => 'EU', 'partnerTypes' => ['supplier', 'carrier'],
    ]]);
    $data = ['articleId' => 'KA1', 'kind' => 'resolution', 'title' => 'How to fix ASN mismatches', 'topic' => 'edi', 'region' => 'EU', 'partnerTypes' => ['supplier', 'carrier']];
    $this->receive('knowledge.published', $data);
    $this->receive('knowledge.published', $data);

    $nodes = Node::loadMultiple(\Drupal::entityQuery('node')->accessCheck(FALSE)->condition('type', 'trading_grid_knowledge')->execute());
    $this->assertCount(1, $nodes);
    $node = reset($nodes);
    $this->assertTrue($node->isPublished());
    $this->assertSame('Resend the ASN with the corrected SSCC.', $node->get('field_tg_description')->value);
    $this->assertSame('edi', $node->get('field_tg_topic')->entity->label());
    $this->assertSame('EU', $node->get('field_tg_region')->entity->label());
    $this->assertSame(['supplier', 'carrier'], array_map(static fn ($t) => $t->label(), $node->get('field_tg_partner_type_terms')->referencedEntities()));
  }

  /**
   * Completions from the network move the journey on and name the next step.
   */
  public function testOnboardingCompletionMovesTheJourneyOn(): void {
    $partner = $this->createPartner('Acme Freight');
    $this->receive('onboarding.training_completed', ['externalId' => 'drupal-user-' . $partner->id(), 'stepId' => 'training']);
    $user = User::load($partner->id());
    $journey = $this->container->get('trading_grid.onboarding');
    $this->assertSame(['company-profile', 'training'], $journey->completed($user));
    $this->assertSame(50, (int) $user->get('field_tg_onboarding_progress')->value);
    $this->assertSame('code-of-conduct', $journey->nextStep($user)['id']);
    $notices = $this->container->get('trading_grid.notifier')->notices($user);
    $this->assertStringContainsString('Next step: Acknowledge the supplier code of conduct', $notices[0]['message']);

    $this->receive('document.accepted', ['externalId' => 'drupal-user-' . $partner->id(), 'documentId' => 'sop-7']);
    $this->assertContains('first-document', $journey->completed(User::load($partner->id())));
  }

  /**
   * Network notifications reach the issue's organisation.
   */
  public function testPartnerResponseNotifiesTheOrganisation(): void {
    $partner = $this->createPartner('Acme Freight', ['field_tg_membership_status' => 'active']);
    $colleague = $this->createPartner('Acme Freight', ['field_tg_membership_status' => 'active']);
    // Naming the organisation is not belonging to it: not until Trading Grid
    // made the membership active.
    $applicant = $this->createPartner('Acme Freight', ['field_tg_membership_status' => 'pending']);
    $stranger = $this->createPartner('Other Co', ['field_tg_membership_status' => 'active']);
    // Organisations are exact names: the database matches this one too (it
    // compares text case-insensitively), the notifier must not.
    $lookalike = $this->createPartner('ACME FREIGHT', ['field_tg_membership_status' => 'active']);
    $issue = $this->createIssue($partner);
    $this->container->get('trading_grid.link_store')->record('node', (string) $issue->id(), 'issue', 'synced', 'TI5');
    $this->receive('notification.partner_response', ['issueId' => 'TI5', 'message' => 'The partner answered your trading issue']);
    $notifier = $this->container->get('trading_grid.notifier');
    $this->assertNotEmpty($notifier->notices($partner));
    $this->assertNotEmpty($notifier->notices($colleague));
    $this->assertEmpty($notifier->notices($applicant));
    $this->assertEmpty($notifier->notices($stranger));
    $this->assertEmpty($notifier->notices($lookalike));
  }

  /**
   * Every event counts towards the network figures of its day.
   */
  public function testEventsCountAsNetworkFigures(): void {
    $this->receive('issue.status_changed', ['issueId' => 'TI404', 'to' => 'resolved']);
    $this->receive('document.accepted', ['documentId' => 'sop-7']);
    $metrics = $this->container->get('trading_grid.metrics_store');
    $today = gmdate('Y-m-d');
    $this->assertSame(1.0, $metrics->value('network.events', 'issue.status_changed', $today));
    $this->assertSame(1.0, $metrics->value('network.issues_resolved', '', $today));
    $this->assertSame(1.0, $metrics->value('network.acknowledgements', '', $today));
  }

  /**
   * The event feed fills the inbox after the stored cursor, skipping known ids.
   */
  public function testPullFillsTheInboxFromTheCursor(): void {
    $events = [];
    for ($i = 1; $i <= 3; $i++) {
      $events[] = ['id' => "evt_p$i", 'type' => 'catalog.withdrawn', 'sequence' => $i, 'data' => ['itemId' => "sku-$i"]];
    }
    $this->container->get('state')->set(ScriptedNetwork::EVENTS, $events);
    $puller = $this->container->get('trading_grid.event_puller');
    $this->assertSame(['seen' => 3, 'stored' => 3], $puller->pull(2));
    $this->assertSame('3', $this->container->get('trading_grid.inbox')->cursor('events'));
    $this->assertSame(['seen' => 0, 'stored' => 0], $puller->pull(2));
  }

}
