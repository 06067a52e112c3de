<?php

declare(strict_types=1);

namespace Drupal\trading_grid\Form;

use Drupal\Core\Entity\EntityTypeManagerInterface;
use Drupal\Core\Form\FormBase;
use Drupal\Core\Form\FormStateInterface;
use Drupal\node\NodeInterface;
use Drupal\trading_grid\Access\NodeAccess;
use Drupal\trading_grid\Flow\TradingIssue\IssueTimeline;
use Drupal\trading_grid\Sync\InvalidPayloadException;
use Symfony\Component\DependencyInjection\ContainerInterface;

/**
 * A comment on a trading issue, from its organisation or the staff.
 */
final class IssueCommentForm extends FormBase {

  // Protected, not private readonly: a cached form (a rebuild, an upload) gets its
  // services back through DependencySerializationTrait, which only sees and
  // writes such properties.
  public function __construct(
    protected IssueTimeline $timeline,
    protected NodeAccess $nodeAccess,
    protected EntityTypeManagerInterface $entityTypeManager,
  ) {}

  /**
   * {@inheritdoc}
   */
  public static function create(ContainerInterface $container): static {
    return new static(
      $container->get('trading_grid.issue_timeline'),
      $container->get('trading_grid.node_access'),
      $container->get('entity_type.manager'),
    );
  }

  /**
   * {@inheritdoc}
   */
  public function getFormId(): string {
    return 'trading_grid_issue_comment';
  }

  /**
   * {@inheritdoc}
   */
  public function buildForm(array $form, FormStateInterface $form_state, ?NodeInterface $issue = NULL): array {
    $form_state->set('issue_id', $issue?->id());
    $form['body'] = [
      '#type' => 'textarea',
      '#title' => $this->t('Add a comment'),
      '#required' => TRUE,
      '#rows' => 4,
      '#maxlength' => 20000,
    ];
    $form['actions'] = ['#type' => 'actions'];
    $form['actions']['submit'] = ['#type' => 'submit', '#value' => $this->t('Post comment')];
    return $form;
  }

  /**
   * {@inheritdoc}
   */
  public function submitForm(array &$form, FormStateInterface $form_state): void {
    $issue = $this->entityTypeManager->getStorage('node')->load((int) $form_state->get('issue_id'));
    $account = $this->currentUser();
    $mayComment = $account->hasPermission('raise trading issues') || $account->hasPermission('administer trading grid');
    if (!$issue instanceof NodeInterface || !$mayComment || !$this->nodeAccess->mayViewIssue($issue, $account)) {
      $this->messenger()->addError($this->t('This trading issue cannot be commented on.'));
      return;
    }
    try {
      $this->timeline->addPortalComment($issue, $this->currentUser(), trim((string) $form_state->getValue('body')));
      $this->messenger()->addStatus($this->t('Your comment was added and is on its way to Trading Grid.'));
    }
    catch (InvalidPayloadException $e) {
      $this->messenger()->addError($this->t('The comment could not be sent: @message', ['@message' => $e->getMessage()]));
    }
  }

}
