<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Flow\Notification;

use Drupal\Core\Config\ConfigFactoryInterface;
use Drupal\Core\Entity\EntityTypeManagerInterface;
use Drupal\Core\Mail\MailManagerInterface;
use Drupal\Core\Session\AccountInterface;
use Drupal\trading_grid\Access\PartnerContext;
use Drupal\user\UserDataInterface;
use Drupal\user\UserInterface;

/**
 * Tells people what the network did: a notice shown on their next page (Drupal's
 * messenger belongs to a session, and events are handled on cron or after a webhook,
 * so the notice waits in user data), and an e-mail if the site wants one.
 */
final class PartnerNotifier {

  /**
   * Notices kept per user until shown.
   */
  private const KEEP = 20;

  public function __construct(
    private readonly UserDataInterface $userData,
    private readonly MailManagerInterface $mailManager,
    private readonly EntityTypeManagerInterface $entityTypeManager,
    private readonly ConfigFactoryInterface $configFactory,
  ) {}

  /**
   * Notifies users, once per key and user.
   *
   * @param \Drupal\Core\Session\AccountInterface[] $users
   *   The recipients.
   * @param string $subject
   *   A short subject.
   * @param string $message
   *   The message, plain text.
   * @param string $key
   *   What the notice is about (an event id): the same key is noticed once.
   */
  public function notify(array $users, string $subject, string $message, string $key = ''): void {
    $mail = (bool) $this->configFactory->get('trading_grid.settings')->get('notify_by_mail');
    foreach ($users as $user) {
      if (!$user instanceof AccountInterface || $user->isAnonymous()) {
        continue;
      }
      $uid = (int) $user->id();
      $notices = $this->userData->get('trading_grid', $uid, 'notices');
      $notices = is_array($notices) ? $notices : [];
      if ($key !== '' && in_array($key, array_column($notices, 'key'), TRUE)) {
        continue;
      }
      $notices[] = ['key' => $key, 'subject' => $subject, 'message' => $message, 'at' => time(), 'shown' => FALSE];
      $this->userData->set('trading_grid', $uid, 'notices', array_slice($notices, -self::KEEP));
      if ($mail && $user->getEmail()) {
        $this->mailManager->mail('trading_grid', 'notice', $user->getEmail(), $user->getPreferredLangcode(), [
          'subject' => $subject,
          'message' => $message,
        ]);
      }
    }
  }

  /**
   * The notices not shown yet to a user, marking them shown.
   *
   * @return list<array{subject: string, message: string}>
   *   The notices.
   */
  public function takeUnshown(AccountInterface $account): array {
    $notices = $this->userData->get('trading_grid', (int) $account->id(), 'notices');
    if (!is_array($notices) || $notices === []) {
      return [];
    }
    $unshown = [];
    foreach ($notices as &$notice) {
      if (empty($notice['shown'])) {
        $unshown[] = ['subject' => (string) $notice['subject'], 'message' => (string) $notice['message']];
        $notice['shown'] = TRUE;
      }
    }
    unset($notice);
    if ($unshown !== []) {
      $this->userData->set('trading_grid', (int) $account->id(), 'notices', $notices);
    }
    return $unshown;
  }

  /**
   * Every notice of a user, newest first (for the partner pages).
   *
   * @return list<array<string, mixed>>
   *   The notices.
   */
  public function notices(AccountInterface $account): array {
    $notices = $this->userData->get('trading_grid', (int) $account->id(), 'notices');
    return is_array($notices) ? array_reverse($notices) : [];
  }

  /**
   * The active users of an organisation who are its active members.
   *
   * @return \Drupal\user\UserInterface[]
   *   The users.
   */
  public function organisationUsers(string $organisation): array {
    $organisation = trim($organisation);
    if ($organisation === '') {
      return [];
    }
    $storage = $this->entityTypeManager->getStorage('user');
    $ids = $storage->getQuery()
      ->accessCheck(FALSE)
      ->condition('status', 1)
      ->condition('field_tg_organisation', $organisation)
      // Only active members: an account that merely names the organisation
      // (pending, suspended) hears nothing of its trading issues.
      ->condition('field_tg_membership_status', PartnerContext::ACTIVE)
      ->execute();
    // The database compares text fields case-insensitively (MySQL, SQLite,
    // PostgreSQL alike): "ACME Freight" is another organisation than "Acme
    // Freight" for the access rules (exact names, as in Access\Audience), so it
    // is not told about Acme Freight's issues either.
    return array_values(array_filter(
      $storage->loadMultiple($ids),
      static fn ($u): bool => $u instanceof UserInterface
        && trim((string) $u->get('field_tg_organisation')->value) === $organisation,
    ));
  }

  /**
   * The active users who administer Trading Grid.
   *
   * @return \Drupal\user\UserInterface[]
   *   The users.
   */
  public function staff(): array {
    $roles = [];
    foreach ($this->entityTypeManager->getStorage('user_role')->loadMultiple() as $role) {
      if ($role->id() !== AccountInterface::ANONYMOUS_ROLE && ($role->isAdmin() || $role->hasPermission('administer trading grid'))) {
        $roles[] = $role->id();
      }
    }
    $storage = $this->entityTypeManager->getStorage('user');
    $query = $storage->getQuery()->accessCheck(FALSE)->condition('status', 1);
    $or = $query->orConditionGroup()->condition('uid', 1);
    if ($roles !== []) {
      $or->condition('roles', $roles, 'IN');
    }
    $ids = $query->condition($or)->execute();
    return array_values(array_filter($storage->loadMultiple($ids), static fn ($u): bool => $u instanceof UserInterface));
  }

}
