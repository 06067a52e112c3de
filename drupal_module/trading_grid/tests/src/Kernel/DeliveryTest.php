<?php

declare(strict_types=1);

namespace Drupal\Tests\trading_grid\Kernel;

use Drupal\trading_grid\Store\LinkStore;
use Drupal\trading_grid\Store\Outbox;
use Drupal\trading_grid_test\RecordingSender;
use Drupal\user\Entity\User;

/**
 * Draining: rows leave the outbox when answered, links keep the remote ids, later
 * ops find the ids earlier ones created, refused ops become replayable dead letters.
 *
 * The sender is the test module's recording double: no extension needed.
 *
 * @group trading_grid
 */
final class DeliveryTest extends TradingGridKernelTestBase {

  /**
   * {@inheritdoc}
   */
  protected static $modules = ['trading_grid_test'];

  /**
   * Drains everything due.
   */
  private function drain(): void {
    $report = $this->container->get('trading_grid.delivery')->drain(5.0, 'test');
    $this->assertNotNull($report, 'the recording sender can always send');
  }

  /**
   * The ops the recording sender got, in order.
   *
   * @return list<array<string, mixed>>
   *   Ops in the sendBatch format.
   */
  private function sent(): array {
    return $this->container->get('state')->get(RecordingSender::SENT, []);
  }

  /**
   * A partner is sent, its link records the partner id, and its access request
   * goes out with that id once known.
   */
  public function testPartnerIsSentAndLinked(): void {
    $partner = $this->createPartner('Acme Freight');
    $uid = (string) $partner->id();
    $this->drain();
    $links = $this->container->get('trading_grid.link_store');
    $this->assertSame('GC-drupal-user-' . $uid, $links->get('user', $uid, 'partner')['remoteId']);
    $this->assertSame(LinkStore::SYNCED, $links->get('user', $uid, 'partner')['status']);
    $this->assertContains('partner.upsert', array_column($this->sent(), 'op'));

    // The access request was claimed with the upsert, before the partner id was
    // known: it waits (a retry later), then goes out with the real id.
    $outbox = $this->container->get('trading_grid.outbox');
    $waiting = $outbox->list(['op' => 'access_request.create']);
    if ($waiting !== []) {
      $this->assertSame(1, $waiting[0]['attempts']);
      $this->container->get('database')->update('trading_grid_outbox')
        ->fields(['next_attempt_at' => 0])
        ->execute();
      $this->drain();
    }
    $requests = array_values(array_filter($this->sent(), static fn (array $op): bool => $op['op'] === 'access_request.create'));
    $this->assertSame('GC-drupal-user-' . $uid, end($requests)['payload']['partnerId']);
    $this->assertSame(0, $outbox->count());
  }

  /**
   * A comment on an issue already on Trading Grid carries the issue's id.
   */
  public function testCommentCarriesTheIssueIdOnceKnown(): void {
    $partner = $this->createPartner('Acme Freight');
    $issue = $this->createIssue($partner);
    $this->drain();
    $this->assertSame('TI-drupal-node-' . $issue->id(), $this->container->get('trading_grid.link_store')->get('node', (string) $issue->id(), 'issue')['remoteId']);

    $this->container->get('trading_grid.issue_timeline')->addPortalComment($issue, $partner, 'Please check the remittance.');
    $this->drain();
    $comments = array_values(array_filter($this->sent(), static fn (array $op): bool => $op['op'] === 'issue.comment'));
    $this->assertCount(1, $comments);
    $this->assertSame('TI-drupal-node-' . $issue->id(), $comments[0]['payload']['issueId']);
    $this->assertNotEmpty($comments[0]['idempotencyKey']);
  }

  /**
   * A refused op becomes a dead letter that blocks its key until replayed.
   */
  public function testRefusedOpIsDeadLetteredAndReplayable(): void {
    $state = $this->container->get('state');
    $state->set(RecordingSender::REFUSE, ['partner.upsert']);
    $partner = $this->createPartner('Acme Freight');
    $uid = (string) $partner->id();
    $this->drain();
    $outbox = $this->container->get('trading_grid.outbox');
    $dead = $outbox->list(['state' => Outbox::DEAD]);
    $this->assertCount(1, $dead);
    $this->assertSame('partner.upsert', $dead[0]['op']);
    $this->assertSame('validation', $dead[0]['errorClass']);
    $this->assertSame(LinkStore::DEAD, $this->container->get('trading_grid.link_store')->get('user', $uid, 'partner')['status']);
    // The onboarding step of the same partner waits behind the dead letter.
    $this->assertSame($dead[0]['id'], $outbox->list(['op' => 'onboarding.step'])[0]['blockedBy']);

    $state->set(RecordingSender::REFUSE, []);
    $this->assertTrue($outbox->replay($dead[0]['id']));
    $this->drain();
    $this->assertSame(0, $outbox->count(['entityType' => 'user', 'entityId' => $uid, 'op' => 'partner.upsert']));
    $this->assertSame(LinkStore::SYNCED, $this->container->get('trading_grid.link_store')->get('user', $uid, 'partner')['status']);
  }

  /**
   * After the response, only a request that enqueued something delivers.
   */
  public function testTerminateDeliversOnlyWhatTheRequestEnqueued(): void {
    $activity = $this->container->get('trading_grid.request_activity');
    $activity->reset();
    $subscriber = $this->container->get('trading_grid.deliver_after_response');
    $kernel = $this->container->get('http_kernel');
    $request = \Symfony\Component\HttpFoundation\Request::create('/');
    $response = new \Symfony\Component\HttpFoundation\Response();

    $subscriber->onTerminate(new \Symfony\Component\HttpKernel\Event\TerminateEvent($kernel, $request, $response));
    $this->assertSame([], $this->sent(), 'nothing enqueued, nothing sent');

    User::create(['name' => 'p', 'mail' => 'p@example.com', 'status' => 1, 'field_tg_organisation' => 'Acme', 'field_tg_partner_type' => 'supplier', 'field_tg_country' => 'FR'])->save();
    $this->assertGreaterThan(0, $activity->enqueuedCount());
    $subscriber->onTerminate(new \Symfony\Component\HttpKernel\Event\TerminateEvent($kernel, $request, $response));
    $this->assertContains('partner.upsert', array_column($this->sent(), 'op'));
    $this->assertSame(0, $activity->enqueuedCount());
  }

}
